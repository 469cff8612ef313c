/**
 * A verified token as the rest of the pipeline sees it (`ctx.identity`).
 * Scopes and roles are extracted once, at verification, with the provider's
 * claim paths; the verified-token cache hands the same frozen object to
 * every request that presents the token again.
 */
import type { Identity } from '../contract/types.js';
import { readClaim, type ClaimPath } from '../contract/claims.js';

export class VerifiedIdentity implements Identity {
  readonly provider: string;
  readonly sub: string | null;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly scopes: ReadonlySet<string>;
  readonly roles: ReadonlySet<string>;
  /** `exp` in ms since the epoch; an introspected token without `exp` passes its own bound. */
  readonly expiresAtMs: number;

  constructor(provider: string, claims: Readonly<Record<string, unknown>>, scopes: ReadonlySet<string>, roles: ReadonlySet<string>, expiresAtMs?: number) {
    this.provider = provider;
    const sub = claims['sub'];
    this.sub = typeof sub === 'string' ? sub : null;
    this.claims = deepFreeze(claims);
    this.scopes = scopes;
    this.roles = roles;
    this.expiresAtMs = expiresAtMs ?? (claims['exp'] as number) * 1000;
    Object.freeze(this);
  }
}

/** A space-separated string (RFC 8693 §4.2 `scope`) or an array of strings (`scp`, many IdPs' roles). */
export function stringSet(value: unknown): ReadonlySet<string> {
  const out = new Set<string>();
  if (typeof value === 'string') {
    for (const part of value.split(' ')) if (part !== '') out.add(part);
  } else if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'string' && item !== '') out.add(item);
  }
  return out;
}

/** Scopes from the provider's `scopesClaim`, falling back to `scp` (Azure AD, Okta) when that is absent. */
export function readScopes(claims: Readonly<Record<string, unknown>>, path: ClaimPath): ReadonlySet<string> {
  const value = readClaim(claims, path);
  return stringSet(value === undefined ? claims['scp'] : value);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
