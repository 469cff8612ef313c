/**
 * Cache headers of forward-auth answers (issue 6 §3): an NGINX `proxy_cache` on the auth location,
 * or ingress-nginx `auth-cache-key`, must never serve one user's allow to another.
 *
 * Every answer is `Cache-Control: no-store` (contract/respond.ts) unless `listeners.auth.cacheMaxAgeSec`
 * is set; NGINX does not store a response whose Cache-Control says no-store, no-cache or private
 * (nginx.org ngx_http_proxy_module, proxy_cache_valid: header parameters take priority), so a
 * cache configured on the auth location stores nothing.
 *
 * With cacheMaxAgeSec > 0, only allows of routes whose every stage decides from the credential
 * alone (authenticate, authorise) are marked `max-age=N` — never past the token's `exp` — with
 * `Vary` naming every header a token is read from. A route with a rate limit (a cached allow would
 * skip the bucket), a network policy (the client address is not in the key) or a WAF (the other
 * headers are not in the key) stays no-store, and so does every denial.
 */
import type { Gateway } from '../pipeline/gateway.js';
import type { Identity, RouteRef } from '../contract/types.js';

const CREDENTIAL_ONLY: ReadonlySet<string> = new Set(['auth', 'authorise']);

/** What one Gateway's forward-auth answers need, computed on its first forward-auth request. */
export class CachePolicy {
  readonly maxAgeSec: number;
  /** `Authorization, Cookie, <token headers>`: where tokens come from (auth.tokenSources). */
  readonly vary: string;
  readonly #routes = new WeakMap<RouteRef, boolean>();

  constructor(maxAgeSec: number, tokenHeaders: readonly string[]) {
    this.maxAgeSec = maxAgeSec;
    this.vary = ['Authorization', 'Cookie', ...tokenHeaders.filter((h) => h !== 'authorization')].join(', ');
  }

  /** The Cache-Control of an allow, or null for the default no-store. */
  allowCacheControl(route: RouteRef, identity: Identity | null, nowSec: number): string | null {
    if (this.maxAgeSec === 0 || !this.#cacheable(route)) return null;
    let maxAge = this.maxAgeSec;
    if (identity !== null) {
      // A certificate-bound token (RFC 8705): the certificate is not in the cache key.
      if (identity.claims['cnf'] !== undefined) return null;
      const exp = identity.claims['exp'];
      if (typeof exp !== 'number') return null;
      maxAge = Math.min(maxAge, Math.floor(exp - nowSec));
    }
    return maxAge > 0 ? `max-age=${maxAge}` : null;
  }

  #cacheable(route: RouteRef): boolean {
    let ok = this.#routes.get(route);
    if (ok === undefined) {
      // A DPoP proof is single-use (RFC 9449 §11.1): a cached allow would accept it again.
      ok = route.stages.every((s) => CREDENTIAL_ONLY.has(s.name) && s.perRequestProof !== true);
      this.#routes.set(route, ok);
    }
    return ok;
  }
}

const policies = new WeakMap<Gateway, CachePolicy>();

/** The policy of `gateway`; compiled once per Gateway (a reload makes a new one). */
export function cachePolicyOf(gateway: Gateway): CachePolicy {
  let p = policies.get(gateway);
  if (p === undefined) {
    const headers = (gateway.config.auth?.tokenSources ?? []).flatMap((s) => ('header' in s ? [s.header.toLowerCase()] : []));
    p = new CachePolicy(gateway.config.listeners.auth?.cacheMaxAgeSec ?? 0, headers);
    policies.set(gateway, p);
  }
  return p;
}
