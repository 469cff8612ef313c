/**
 * Clients Redis has just refused, until their Retry-After passes (issue 4 §7): a client hammering
 * an exhausted bucket is answered 429 from here, synchronously, without a Redis round trip. The
 * answer cannot be wrong in the client's favour: no token can appear before `until`, whatever
 * other gateways do (they can only take tokens, not add them).
 *
 * Bounded like every map keyed by client input: insertion-ordered, the oldest entry goes first
 * when full. Entries live at most one Retry-After, so a full cache turns over quickly.
 */
import type { Clock } from './local-store.js';

export class DenyCache {
  readonly #until = new Map<string, number>();
  readonly #max: number;
  readonly #now: Clock;

  constructor(maxEntries: number, now: Clock) {
    this.#max = maxEntries;
    this.#now = now;
  }

  get size(): number {
    return this.#until.size;
  }

  /** Milliseconds the client must still wait, or 0 when it is not (or no longer) denied. */
  waitMs(key: string): number {
    const until = this.#until.get(key);
    if (until === undefined) return 0;
    const left = until - this.#now();
    if (left > 0) return left;
    this.#until.delete(key);
    return 0;
  }

  deny(key: string, forMs: number): void {
    const map = this.#until;
    if (map.size >= this.#max && !map.has(key)) {
      const oldest = map.keys().next();
      if (oldest.done !== true) map.delete(oldest.value);
    }
    map.set(key, this.#now() + forMs);
  }
}
