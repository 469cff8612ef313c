/**
 * In-process buckets: the store when no `redis` is configured, and the fallback of
 * `failMode: open` while Redis is away. Shaped after Traefik's in_memory_limiter + ttlmap
 * (a capped map whose idle entries expire), with two differences:
 *
 * - the cap is an LRU: the map's entries are also a doubly linked list, most recently used
 *   first, so a hit and an eviction are both O(1). (Re-inserting into an insertion-ordered Map
 *   and evicting its first key looks simpler but was 15-90x slower here: V8 leaves deleted Map
 *   entries as holes that every fresh iterator walks over.)
 * - an entry "expires" when its bucket has refilled to full: from then on it is worth exactly
 *   as much as no entry, so dropping it loses nothing. Each new key drops up to two such entries
 *   from the cold end, which lets the map shrink back after a burst of one-off clients.
 *
 * A million distinct keys (a client rotating header values) therefore costs at most `maxBuckets`
 * entries; the price is that, past the cap, the coldest clients' buckets are forgotten and start
 * full again (docs/rate-limiting.md).
 */
import { BucketState, take, type BucketDecision, type BucketSpec } from './bucket.js';

/** A clock in milliseconds; monotonic in production (performance.now), injectable in tests. */
export type Clock = () => number;

const EXPIRED_SWEEP_PER_INSERT = 2;

/** A bucket that is also a link of the recency list. */
class Entry extends BucketState {
  readonly key: string;
  newer: Entry | null = null;
  older: Entry | null = null;

  constructor(key: string, tokens: number, ts: number) {
    super(tokens, ts);
    this.key = key;
  }
}

export class LocalStore {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;
  readonly #now: Clock;
  /** Most and least recently used. */
  #newest: Entry | null = null;
  #oldest: Entry | null = null;

  constructor(maxBuckets: number, now: Clock) {
    this.#max = maxBuckets;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  take(key: string, spec: BucketSpec): BucketDecision {
    const now = this.#now();
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      this.#makeRoom(now);
      entry = new Entry(key, spec.capacity, now);
      this.#entries.set(key, entry);
      this.#linkNewest(entry);
    } else if (entry !== this.#newest) {
      this.#unlink(entry);
      this.#linkNewest(entry);
    }
    return take(entry, spec, now);
  }

  #makeRoom(now: number): void {
    let swept = 0;
    for (let e = this.#oldest; e !== null; e = this.#oldest) {
      if (this.#entries.size < this.#max && (e.fullAt > now || swept >= EXPIRED_SWEEP_PER_INSERT)) return;
      this.#unlink(e);
      this.#entries.delete(e.key);
      swept++;
    }
  }

  #linkNewest(e: Entry): void {
    e.older = this.#newest;
    e.newer = null;
    if (this.#newest !== null) this.#newest.newer = e;
    this.#newest = e;
    if (this.#oldest === null) this.#oldest = e;
  }

  #unlink(e: Entry): void {
    if (e.newer !== null) e.newer.older = e.older;
    else this.#newest = e.older;
    if (e.older !== null) e.older.newer = e.newer;
    else this.#oldest = e.newer;
    e.newer = null;
    e.older = null;
  }

  clear(): void {
    this.#entries.clear();
    this.#newest = null;
    this.#oldest = null;
  }
}
