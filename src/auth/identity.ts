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

/** The set of a token without scopes or roles: one for all of them (it is never modified). */
const EMPTY_SET: ReadonlySet<string> = new Set<string>();

/** A space-separated string (RFC 8693 §4.2 `scope`) or an array of strings (`scp`, many IdPs' roles). */
export function stringSet(value: unknown): ReadonlySet<string> {
  const out = new Set<string>();
  if (typeof value === 'string') {
    for (const part of value.split(' ')) if (part !== '') out.add(part);
  } else if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'string' && item !== '') out.add(item);
  }
  return out.size === 0 ? EMPTY_SET : out;
}

/** Distinct claim values a SharedStringSets remembers; past it, a token's set is its own. */
const MAX_SHARED_SETS = 1024;

/**
 * stringSet(), one set per distinct claim value (issue 17 item 4): a Set costs ~150 bytes, and
 * 10,000 cached tokens carrying a few distinct scope strings need a few sets, not two per token.
 * Sharing is safe because no one modifies an identity's sets (ReadonlySet, and they are made
 * here). Bounded, since claim values are chosen by whoever the issuer signs for.
 */
export class SharedStringSets {
  readonly #sets = new Map<string, ReadonlySet<string>>();

  of(value: unknown): ReadonlySet<string> {
    // 's'/'a' prefixes: the string '["x"]' and the array ["x"] are different sets
    const key = typeof value === 'string' ? 's' + value : Array.isArray(value) ? 'a' + JSON.stringify(value) : null;
    if (key === null) return EMPTY_SET;
    let set = this.#sets.get(key);
    if (set === undefined) {
      set = stringSet(value);
      if (set !== EMPTY_SET && this.#sets.size < MAX_SHARED_SETS) this.#sets.set(key, set);
    }
    return set;
  }
}

/** Scopes from the provider's `scopesClaim`, falling back to `scp` (Azure AD, Okta) when that is absent. */
export function readScopes(claims: Readonly<Record<string, unknown>>, path: ClaimPath, sets?: SharedStringSets): ReadonlySet<string> {
  const found = readClaim(claims, path);
  const value = found === undefined ? claims['scp'] : found;
  return sets === undefined ? stringSet(value) : sets.of(value);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
