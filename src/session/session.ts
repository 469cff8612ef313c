/**
 * What a session is: the little the gateway keeps after sign-in, in the cookie (sealed) or in
 * Redis (sealed too, so a Redis dump holds no readable tokens). Short keys: a cookie-store session
 * travels on every request.
 *
 * The identity of a session is its ID token's payload, so scopes, roles, claims, identity headers
 * and rate-limit keys read a session exactly as they read a bearer token's claims (with the
 * provider's rolesClaim and scopesClaim). Two differences, both documented in docs/sign-in.md:
 * `exp` is the session's own end (an ID token typically expires in minutes, the session does
 * not), and when the payload has no scopes claim the scopes the token endpoint granted stand in.
 */
import { randomBytes } from 'node:crypto';
import type { ProviderConfig } from '../config/types.js';
import { compileClaimPath, readClaim, type ClaimPath } from '../contract/claims.js';
import { readScopes, stringSet, VerifiedIdentity } from '../auth/identity.js';

export interface SessionData {
  /** Random, new at every sign-in (no fixation); the Redis store's cookie value. */
  readonly id: string;
  /** Provider name. */
  readonly p: string;
  /** The ID token: its payload is the identity, and it is the end_session id_token_hint. */
  readonly idt: string;
  readonly rt: string | null;
  /** Access token expiry (seconds), null when unknown. */
  readonly ate: number | null;
  /** Scopes the token endpoint granted. */
  readonly sc: string | null;
  /** Created, last seen (seconds). */
  readonly c: number;
  readonly s: number;
}

/** 256 bits from the CSPRNG, base64url: unguessable as a session handle. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

const STRING_OR_NULL = (v: unknown): boolean => v === null || typeof v === 'string';

/** A decoded value that has the shape of a session (it was sealed by us, but maybe by an older version). */
export function asSession(v: unknown): SessionData | null {
  if (v === null || typeof v !== 'object') return null;
  const s = v as Record<string, unknown>;
  if (typeof s['id'] !== 'string' || typeof s['p'] !== 'string' || typeof s['idt'] !== 'string') return null;
  if (!STRING_OR_NULL(s['rt']) || !STRING_OR_NULL(s['sc']) || !(s['ate'] === null || typeof s['ate'] === 'number')) return null;
  if (typeof s['c'] !== 'number' || typeof s['s'] !== 'number') return null;
  return s as unknown as SessionData;
}

/** The payload of a JWT we verified before sealing it; null if it does not decode. */
export function payloadOf(jwt: string): Record<string, unknown> | null {
  const parts = jwt.split('.');
  if (parts.length !== 3) return null;
  try {
    const v = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Builds session identities with one provider's claim paths, prepared once. */
export class SessionIdentities {
  readonly #provider: string;
  readonly #scopesPath: ClaimPath;
  readonly #rolesPath: ClaimPath;

  constructor(cfg: ProviderConfig) {
    this.#provider = cfg.name;
    this.#scopesPath = compileClaimPath(cfg.scopesClaim);
    this.#rolesPath = compileClaimPath(cfg.rolesClaim);
  }

  identity(s: SessionData, endsAtSec: number): VerifiedIdentity | null {
    const payload = payloadOf(s.idt);
    if (payload === null) return null;
    const claims: Record<string, unknown> = { ...payload, exp: endsAtSec };
    if (readClaim(claims, this.#scopesPath) === undefined && claims['scp'] === undefined && s.sc !== null) {
      // A one-segment scopesClaim is set as such; a dotted one falls back to `scp`, which readScopes reads too.
      claims[this.#scopesPath.length === 1 ? this.#scopesPath[0]! : 'scp'] = s.sc;
    }
    return new VerifiedIdentity(this.#provider, claims, readScopes(claims, this.#scopesPath), stringSet(readClaim(claims, this.#rolesPath)));
  }
}
