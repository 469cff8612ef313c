/**
 * Token introspection and DPoP, imported only for a config that uses them (issue 17 item 4): a
 * gateway of plain JWT providers does not load their code. Resolved before the synchronous
 * compile (compile/gateway.ts), so no request waits on an import.
 */
import type { GatewayConfig } from '../config/types.js';
import type { CompiledDpop } from './dpop/compile.js';
import type { Introspector } from './introspection.js';

export interface AuthModules {
  /** Present when a provider has `introspection`. */
  readonly Introspector: typeof Introspector | null;
  /** Present when a provider or a route turns DPoP on (a mode other than `off`). */
  readonly CompiledDpop: typeof CompiledDpop | null;
}

export const NO_AUTH_MODULES: AuthModules = Object.freeze({ Introspector: null, CompiledDpop: null });

/** Whether any provider or route asks for DPoP: `auth.dpop`'s settings alone check nothing. */
export function usesDpop(cfg: GatewayConfig): boolean {
  return (cfg.auth?.providers ?? []).some((p) => (p.dpop ?? 'off') !== 'off')
    || cfg.routes.some((r) => typeof r.auth === 'object' && (r.auth.dpop ?? 'off') !== 'off');
}

export async function importAuthModules(cfg: GatewayConfig): Promise<AuthModules> {
  const introspection = (cfg.auth?.providers ?? []).some((p) => p.introspection !== undefined);
  const [i, d] = await Promise.all([
    introspection ? import('./introspection.js') : null,
    usesDpop(cfg) ? import('./dpop/compile.js') : null,
  ]);
  return { Introspector: i?.Introspector ?? null, CompiledDpop: d?.CompiledDpop ?? null };
}
