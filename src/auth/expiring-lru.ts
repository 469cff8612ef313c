/**
 * A bounded map whose entries expire: the shape of both token caches (the
 * verified-token cache, token-cache.ts, and the introspection cache,
 * introspection.ts). The key space is client input, so the size is capped and
 * the least recently used entry goes first; an entry past its expiry is
 * dropped when read, without a sweep.
 */
interface Entry<V> {
  readonly value: V;
  readonly expiresAtMs: number;
}

export class ExpiringLru<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value when present and unexpired; `valid` may reject it further (then it is dropped). */
  get(key: string, nowMs: number, valid?: (value: V) => boolean): V | null {
    const entry = this.#entries.get(key);
    if (entry === undefined) return null;
    this.#entries.delete(key);
    if (nowMs >= entry.expiresAtMs || (valid !== undefined && !valid(entry.value))) return null;
    // Map keeps insertion order: re-inserting makes this the most recently used.
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Remembers `value` until `expiresAtMs`; an already-expired value is not stored. */
  set(key: string, value: V, expiresAtMs: number, nowMs: number): void {
    if (expiresAtMs <= nowMs || this.#maxEntries <= 0) return;
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, Object.freeze({ value, expiresAtMs }));
  }
}
