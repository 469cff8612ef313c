/**
 * Verified-token cache (issue 3 §7). Signature verification dominates the
 * pipeline's CPU cost; a client sends the same token many times, so a
 * successful verification is remembered:
 * - keyed by a SHA-256 of the token, so no bearer credential sits in memory
 *   (or in a heap dump) as a map key; the entry records the provider, and a
 *   token names exactly one provider through its `iss`;
 * - bounded (least recently used evicted) — the key space is client input;
 * - an entry never outlives the token's `exp` nor `maxTtlSec`;
 * - an entry is only valid with the key set it was verified with: when the
 *   provider's keys change (a key revoked), every entry of that provider stops
 *   matching at once, without a sweep.
 * Route authorisation (scopes, roles, claims) still runs per request.
 *
 * The hash is 0.9 µs of a 56 µs forward-auth decision (issue 17) and a client sends the same
 * token request after request, so keyOf remembers the last token and its key: a repeat costs a
 * string comparison (0.05 µs). That holds one token — the last one seen, replaced by the next —
 * as DPoP's access-token hash does (both through last-token.ts); the map still holds hashes only.
 */
import { hash } from 'node:crypto';
import { ExpiringLru } from './expiring-lru.js';
import { LastTokenMemo } from './last-token.js';
import type { VerifiedIdentity } from './identity.js';
import type { KeySet } from './key-set.js';
import type { Provider } from './provider.js';

/**
 * A class, and not frozen (its fields are readonly to TypeScript): a frozen object literal here
 * was turned into a dictionary-mode object by V8 in the gateway (~440 B more per entry, 4.4 MB
 * at 10,000 tokens, issue 17 item 4), where a class instance keeps its fields in-object.
 */
export class CachedToken {
  constructor(
    readonly provider: Provider,
    readonly identity: VerifiedIdentity,
    readonly keySet: KeySet,
    readonly expiresAtMs: number,
  ) {}
}

/** The cache key of a token: SHA-256, base64 (44 characters). */
export function tokenKey(token: string): string {
  return hash('sha256', token, 'base64');
}

/** An entry is valid only with the key set it was verified with. */
function verifiedWithCurrentKeys(entry: CachedToken): boolean {
  return entry.keySet === entry.provider.keys.current();
}

export class TokenCache {
  readonly #lru: ExpiringLru<CachedToken>;
  readonly #maxTtlMs: number;
  readonly #keys = new LastTokenMemo(tokenKey);

  constructor(maxEntries: number, maxTtlSec: number) {
    this.#lru = new ExpiringLru(maxEntries);
    this.#maxTtlMs = maxTtlSec * 1000;
  }

  get size(): number {
    return this.#lru.size;
  }

  /** tokenKey(token), without hashing again when it is the previous call's token. */
  keyOf(token: string): string {
    return this.#keys.of(token);
  }

  /** The entry when present, unexpired and verified with the provider's current keys. */
  get(key: string, nowMs: number): CachedToken | null {
    return this.#lru.get(key, nowMs, verifiedWithCurrentKeys);
  }

  set(key: string, provider: Provider, identity: VerifiedIdentity, keySet: KeySet, nowMs: number): void {
    const expiresAtMs = Math.min(identity.expiresAtMs, nowMs + this.#maxTtlMs);
    this.#lru.set(key, new CachedToken(provider, identity, keySet, expiresAtMs), expiresAtMs, nowMs);
  }
}
