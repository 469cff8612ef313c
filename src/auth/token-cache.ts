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
 */
import { hash } from 'node:crypto';
import type { VerifiedIdentity } from './identity.js';
import type { KeySet } from './key-set.js';
import type { Provider } from './provider.js';

export interface CachedToken {
  readonly provider: Provider;
  readonly identity: VerifiedIdentity;
  readonly keySet: KeySet;
  readonly expiresAtMs: number;
}

/** The cache key of a token: SHA-256, base64 (44 characters). */
export function tokenKey(token: string): string {
  return hash('sha256', token, 'base64');
}

export class TokenCache {
  readonly #entries = new Map<string, CachedToken>();
  readonly #maxEntries: number;
  readonly #maxTtlMs: number;

  constructor(maxEntries: number, maxTtlSec: number) {
    this.#maxEntries = maxEntries;
    this.#maxTtlMs = maxTtlSec * 1000;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The entry when present, unexpired and verified with the provider's current keys. */
  get(key: string, nowMs: number): CachedToken | null {
    const entry = this.#entries.get(key);
    if (entry === undefined) return null;
    if (nowMs >= entry.expiresAtMs || entry.keySet !== entry.provider.keys.current()) {
      this.#entries.delete(key);
      return null;
    }
    // Map keeps insertion order: re-inserting makes this the most recently used.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  set(key: string, provider: Provider, identity: VerifiedIdentity, keySet: KeySet, nowMs: number): void {
    const expiresAtMs = Math.min(identity.expiresAtMs, nowMs + this.#maxTtlMs);
    if (expiresAtMs <= nowMs) return;
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, Object.freeze({ provider, identity, keySet, expiresAtMs }));
  }
}
