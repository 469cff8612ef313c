/**
 * Process lifecycle (PRODUCT §2): start the listeners, reload on SIGHUP,
 * drain on SIGTERM/SIGINT.
 *
 * Reload compiles the new config completely before swapping one reference;
 * requests in flight finish on the Gateway they started with, which closes
 * its upstream pools once they are done. An invalid config is logged and the
 * old one keeps serving. Listener addresses are bound at start and need a
 * restart to change; request limits (on the HTTPS listener also its TLS
 * handshake timeout, `headersTimeoutMs`, and the HTTP/2 header list size),
 * and the HTTPS listener's certificates, client CA, minVersion and HSTS, are
 * applied in place to new connections (each listener's `reconfigure`).
 *
 * Shutdown stops accepting, lets in-flight requests finish (closing each
 * keep-alive connection as soon as it is idle) up to `shutdownGraceMs`,
 * then closes what is left and exits 0.
 */
import type { Logger } from 'pino';
import type { Gateway } from '../pipeline/gateway.js';
import type { GatewayDeps } from '../contract/types.js';
import type { GatewayHolder } from '../pipeline/gateway.js';
import { createListeners, listen } from './listeners.js';
import type { Listener, ListenerServer, Shapes } from './listener.js';
import { listenerChangesNeedingRestart } from './listener-changes.js';
import { loadConfigFile } from '../config/load.js';
import { compileGateway } from '../compile/gateway.js';
import { ConfigError } from '../config/errors.js';
import { tracingChanged } from './tracing.js';

const IDLE_SWEEP_MS = 50;

export class Runtime implements GatewayHolder {
  current: Gateway;
  readonly #configPath: string;
  readonly #deps: GatewayDeps;
  readonly #logger: Logger;
  readonly listeners: Listener[];
  #shuttingDown = false;
  #reloading: Promise<boolean> | null = null;

  /** `shapes`: what the traffic listeners serve (src/shapes.ts SHAPES; server/ imports no shape). */
  constructor(configPath: string, gateway: Gateway, deps: GatewayDeps, shapes: Shapes) {
    this.#configPath = configPath;
    this.current = gateway;
    this.#deps = deps;
    this.#logger = deps.logger;
    this.listeners = createListeners(this, () => this.#shuttingDown, shapes);
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  async start(): Promise<void> {
    for (const l of this.listeners) {
      const addr = await listen(l);
      this.#logger.info({ listener: l.name, address: addr.address, port: addr.port }, 'listening');
    }
  }

  /** Reload the config file; resolves true when the new config took over. Concurrent calls share one reload. */
  reload(): Promise<boolean> {
    if (this.#reloading === null) {
      this.#reloading = this.#reload().finally(() => { this.#reloading = null; });
    }
    return this.#reloading;
  }

  async #reload(): Promise<boolean> {
    if (this.#shuttingDown) return false;
    let next: Gateway;
    try {
      const cfg = await loadConfigFile(this.#configPath);
      next = await compileGateway(cfg, this.#deps, this.current);
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [String(err)];
      this.#logger.error({ file: this.#configPath, problems }, 'config reload rejected; the previous config keeps serving');
      return false;
    }
    const old = this.current;
    const restartOnly = listenerChangesNeedingRestart(old.config.listeners, next.config.listeners);
    if (restartOnly.length > 0) {
      this.#logger.warn({ changed: restartOnly }, 'listener settings changed in the config: they take effect on restart, not on reload');
    }
    if (tracingChanged(old.config.tracing, next.config.tracing)) {
      this.#logger.warn('tracing settings changed in the config: they take effect on restart, not on reload');
    }
    this.current = next;
    // Request limits, and for HTTPS certificates, client CA and HSTS, change in place.
    for (const l of this.listeners) await l.reconfigure?.(next);
    this.#logger.info({ file: this.#configPath, routes: next.routes.routes.length }, 'config reloaded');
    old.retire().catch((err: unknown) => this.#logger.warn({ err }, 'closing the previous config failed'));
    return true;
  }

  async shutdown(signal: string): Promise<void> {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    const graceMs = this.current.config.server.shutdownGraceMs;
    this.#logger.info({ signal, graceMs }, 'shutting down: draining in-flight requests');
    // Traffic listeners first; admin and the demo upstream keep serving until the drain is over.
    const isTraffic = (l: Listener): boolean => l.name === 'http' || l.name === 'https' || l.name === 'auth' || l.name === 'authGrpc';
    const traffic = this.listeners.filter(isTraffic);
    const rest = this.listeners.filter((l) => !isTraffic(l));
    const drained = await drainServers(traffic.map((l) => l.server), graceMs);
    if (!drained) this.#logger.warn({ graceMs }, 'shutdown grace period over: closing remaining connections');
    await drainServers(rest.map((l) => l.server), 1_000);
    for (const l of this.listeners) l.dispose?.();
    await Promise.race([this.current.retire(), delay(2_000)]);
    // The spans of the drained requests are still queued: export them (bounded by exportTimeoutMs).
    if (this.#deps.tracing !== undefined) await this.#deps.tracing.shutdown();
    this.#logger.info('stopped');
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Close servers, sweeping idle keep-alive connections until all are gone or the deadline passes. */
async function drainServers(servers: ListenerServer[], deadlineMs: number): Promise<boolean> {
  const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  const sweep = setInterval(() => { for (const s of servers) s.closeIdleConnections(); }, IDLE_SWEEP_MS);
  for (const s of servers) s.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), deadlineMs); });
  const ok = await Promise.race([closed.then(() => true), timedOut]);
  clearInterval(sweep);
  clearTimeout(timer);
  if (!ok) for (const s of servers) s.closeAllConnections();
  return ok;
}
