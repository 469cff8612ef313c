/**
 * The identity token of a route (issue 20 item 3): a short-lived JWT, signed by the gateway,
 * stating who the verified caller is, so a backend trusts one signature rather than plain
 * identity headers a misrouted request could carry. The last stage of the route, so a request
 * refused by the rate limit or the WAF costs no signature.
 *
 * Signing (jose, WebCrypto) is the expensive part, so a token is reused for the same identity
 * and route until half its lifetime has passed: the backend always gets at least ttlSec/2 of
 * validity, and the gateway signs once per caller per ttlSec/2 instead of per request. The
 * cache is a WeakMap keyed by the Identity object: the verified-token cache (auth/token-cache.ts,
 * bounded) hands out one Identity per token, so entries live exactly as long as their token's
 * cache entry and need no bound of their own.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { compileClaimPath, readClaim, type ClaimPath } from '../contract/claims.js';
import { CONTINUE, type Identity, type RequestContext, type Stage, type Verdict } from '../contract/types.js';
import type { IdentityKeys, SigningKey } from './keys.js';

interface Issued {
  readonly token: string;
  /** Date.now() past which a fresh token is signed. */
  readonly refreshAtMs: number;
}

export interface IdentityTokenRoute {
  /** Lowercased request header name. */
  readonly header: string;
  readonly ttlSec: number;
  readonly claims: readonly string[];
  readonly audience: string;
}

export class IdentityTokenStage implements Stage {
  readonly name = 'identityToken';
  readonly header: string;
  readonly #issuer: string;
  readonly #key: SigningKey;
  readonly #ttlSec: number;
  readonly #audience: string;
  readonly #claims: readonly ClaimPath[];
  readonly #issued = new WeakMap<Identity, Issued>();

  constructor(route: IdentityTokenRoute, keys: IdentityKeys) {
    this.header = route.header;
    this.#issuer = keys.issuer;
    this.#key = keys.current;
    this.#ttlSec = route.ttlSec;
    this.#audience = route.audience;
    // sub is set from identity.sub in any case.
    this.#claims = Object.freeze(route.claims.filter((c) => c !== 'sub').map(compileClaimPath));
  }

  handle(ctx: RequestContext): Verdict | Promise<Verdict> {
    const identity = ctx.identity;
    if (identity === null) return CONTINUE;
    const now = Date.now();
    const hit = this.#issued.get(identity);
    if (hit !== undefined && now < hit.refreshAtMs) {
      (ctx.upstreamHeaders ??= []).push(this.header, hit.token);
      return CONTINUE;
    }
    return this.#issue(ctx, identity, now);
  }

  async #issue(ctx: RequestContext, identity: Identity, nowMs: number): Promise<Verdict> {
    const iat = Math.floor(nowMs / 1000);
    let exp = iat + this.#ttlSec;
    // Never outlive the credential it speaks for.
    const callerExp = identity.claims['exp'];
    if (typeof callerExp === 'number' && callerExp < exp) exp = Math.max(iat + 1, Math.floor(callerExp));
    const payload = this.payload(identity);
    const key = this.#key;
    const token = await new SignJWT(payload)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(this.#issuer)
      .setAudience(this.#audience)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(key.privateKey);
    this.#issued.set(identity, { token, refreshAtMs: nowMs + ((exp - iat) * 1000) / 2 });
    (ctx.upstreamHeaders ??= []).push(this.header, token);
    return CONTINUE;
  }

  /** sub, idp and the configured claims of `identity` (the registered claims are set by SignJWT). */
  payload(identity: Identity): Record<string, unknown> {
    // No prototype: a claim path can never reach Object.prototype (config-check.ts refuses __proto__ too).
    const out = Object.create(null) as Record<string, unknown>;
    if (identity.sub !== null) out['sub'] = identity.sub;
    const idp = identity.claims['iss'];
    if (typeof idp === 'string') out['idp'] = idp;
    for (const path of this.#claims) {
      const value = readClaim(identity.claims, path);
      if (value !== undefined) setPath(out, path, value);
    }
    return out;
  }
}

function setPath(out: Record<string, unknown>, path: ClaimPath, value: unknown): void {
  let node = out;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = Object.create(null);
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}
