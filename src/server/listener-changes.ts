/**
 * What a config reload (SIGHUP, runtime.ts) cannot change in a running listener: the listener
 * settings that differ between two configs and apply only on restart. The in-place changes
 * themselves are each listener's `reconfigure` (https-listener.ts, auth-listener.ts).
 */
import type { ListenersConfig } from '../config/types.js';

/** Keys of listeners.https a reload applies in place (certificate files, client CA, policy). */
const LIVE_HTTPS_KEYS = new Set(['cert', 'key', 'minVersion', 'hsts', 'clientCa', 'requireClientCert', 'certificates']);
/**
 * Keys of listeners.auth a reload applies in place: cacheMaxAgeSec is read from each Gateway's
 * config per decision (forward-auth/cache.ts); the TLS keys as on HTTPS, while TLS stays on.
 */
const LIVE_AUTH_KEYS = new Set(['cacheMaxAgeSec', 'trustOriginalUrl', 'key', 'minVersion', 'clientCa', 'requireClientCert']);
/** listeners.authGrpc: its TLS keys, as on listeners.auth (server/auth-grpc-listener.ts). */
const LIVE_AUTH_GRPC_KEYS = new Set(['key', 'minVersion', 'clientCa', 'requireClientCert']);

/**
 * The listener settings that changed between two configs and take effect only on restart
 * (addresses, http2, redirects, whole listeners); [] when a reload applies everything.
 */
export function listenerChangesNeedingRestart(old: ListenersConfig, next: ListenersConfig): string[] {
  const changed: string[] = [];
  for (const name of new Set([...Object.keys(old), ...Object.keys(next)]) as Set<keyof ListenersConfig>) {
    const a = (old[name] ?? null) as Record<string, unknown> | null;
    const b = (next[name] ?? null) as Record<string, unknown> | null;
    if (a === null || b === null) {
      if (a !== b) changed.push(`listeners.${name}`);
      continue;
    }
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (name === 'https' && LIVE_HTTPS_KEYS.has(key)) continue;
      if (name === 'auth' && (LIVE_AUTH_KEYS.has(key) || (key === 'cert' && a[key] !== undefined && b[key] !== undefined))) continue;
      if (name === 'authGrpc' && (LIVE_AUTH_GRPC_KEYS.has(key) || (key === 'cert' && a[key] !== undefined && b[key] !== undefined))) continue;
      if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) changed.push(`listeners.${name}.${key}`);
    }
  }
  return changed;
}
