/**
 * Bounded local leases (issue 17, opt-in per policy with `lease: { tokens, ttlMs }`): instead of
 * one EVALSHA per request, this process takes up to `tokens` tokens of a client's shared bucket
 * in one call (token-bucket.lua with ARGV[3]) and spends them here, synchronously, until they
 * run out or `ttlMs` has passed. The tokens really leave the shared bucket, so every admitted
 * request was paid for in Redis; what changes is *when* it is spent: a token leased before an
 * interval can be spent inside it, after the bucket has refilled. Each process holds at most
 * `tokens − 1` such tokens per client, hence the documented bound — over any interval, N
 * processes admit at most N × (tokens − 1) more than the exact mode (docs/rate-limiting.md).
 *
 * Unspent tokens go back to the bucket (refund, never past capacity):
 * - with the next lease of the same client, in the same call, once a lease has expired;
 * - from a sweep every `ttlMs` (the shortest of the policies), for clients that went quiet;
 * - when the Gateway closes (reload, shutdown), before the Redis connection is dropped.
 * A refund that fails is not retried: those tokens are lost, which only under-admits.
 *
 * Concurrent requests of one client share one call: while a lease is being fetched, others wait
 * for it and then spend from it (or fetch the next), so a burst of 50 costs one round trip, not 50.
 */
import type { BucketDecision, BucketSpec } from './bucket.js';
import type { Clock } from './local-store.js';
import type { LeaseGrant, RedisStore } from './redis-store.js';

const MIN_SWEEP_MS = 50;
const NOTHING = '0';

/** One client's lease in this process. */
class Held {
  readonly spec: BucketSpec;
  /** Tokens this process may still spend. */
  tokens = 0;
  expiresAt = 0;
  /** The shared bucket's whole tokens after the last grant (for the RateLimit header). */
  bucketRemaining = 0;
  fullMs = 0;
  /** The call fetching the next lease, while one is in flight. */
  pending: Promise<BucketDecision> | null = null;

  constructor(spec: BucketSpec) {
    this.spec = spec;
  }
}

export class LeaseBook {
  readonly #redis: RedisStore;
  readonly #now: Clock;
  readonly #maxKeys: number;
  readonly #held = new Map<string, Held>();
  #sweep: NodeJS.Timeout | null = null;
  readonly #sweepMs: number;

  /** `shortestTtlMs`: of the policies with a lease; the sweep runs that often. */
  constructor(redis: RedisStore, now: Clock, maxKeys: number, shortestTtlMs: number) {
    this.#redis = redis;
    this.#now = now;
    this.#maxKeys = maxKeys;
    this.#sweepMs = Math.max(MIN_SWEEP_MS, shortestTtlMs);
    redis.beforeClose(() => this.close());
  }

  /** Clients with a lease in this process (tests, bounds). */
  get size(): number {
    return this.#held.size;
  }

  /** One token of a live lease, synchronously; null when there is none (ask Redis: fetch()). */
  spend(key: string): BucketDecision | null {
    const h = this.#held.get(key);
    if (h === undefined || h.tokens <= 0 || this.#now() >= h.expiresAt) return null;
    h.tokens--;
    return { allowed: true, remaining: h.bucketRemaining + h.tokens, nextMs: 0, fullMs: h.fullMs };
  }

  /** A new lease from Redis (one call, shared by the client's concurrent requests); rejects like RedisStore.take. */
  fetch(key: string, spec: BucketSpec): Promise<BucketDecision> {
    let h = this.#held.get(key);
    // a denial is shared as it is: asking again at once would be denied again, one call per waiter
    if (h?.pending) return h.pending.then((d) => this.spend(key) ?? (d.allowed ? this.fetch(key, spec) : d));
    if (h === undefined) {
      h = new Held(spec);
      this.#admit(key, h);
    }
    // an expired lease's unspent tokens go back in the same call
    const refund = h.tokens;
    h.tokens = 0;
    const held = h;
    const pending = this.#redis.lease(key, spec, spec.lease!.tokensArg, refund).then(
      (grant) => this.#granted(held, grant),
      (err: unknown) => {
        held.pending = null;
        throw err;
      },
    );
    h.pending = pending;
    return pending;
  }

  #granted(h: Held, grant: LeaseGrant): BucketDecision {
    h.pending = null;
    h.bucketRemaining = grant.remaining;
    h.fullMs = grant.fullMs;
    if (grant.granted <= 0) return { allowed: false, remaining: grant.remaining, nextMs: grant.nextMs, fullMs: grant.fullMs };
    h.tokens = grant.granted - 1;
    h.expiresAt = this.#now() + h.spec.lease!.ttlMs;
    return { allowed: true, remaining: grant.remaining + h.tokens, nextMs: 0, fullMs: grant.fullMs };
  }

  /** Bounded: past maxKeys the oldest lease is handed back before a new client gets one. */
  #admit(key: string, h: Held): void {
    if (this.#held.size >= this.#maxKeys) {
      for (const [oldKey, old] of this.#held) {
        if (old.pending !== null) continue;
        this.#held.delete(oldKey);
        void this.#refund(oldKey, old);
        break;
      }
    }
    this.#held.set(key, h);
    if (this.#sweep === null) {
      this.#sweep = setInterval(() => this.#sweepExpired(), this.#sweepMs);
      this.#sweep.unref();
    }
  }

  #sweepExpired(): void {
    const now = this.#now();
    for (const [key, h] of this.#held) {
      if (h.pending !== null || now < h.expiresAt) continue;
      this.#held.delete(key);
      void this.#refund(key, h);
    }
  }

  /** Puts `h`'s unspent tokens back; no call when there are none or Redis is away. */
  #refund(key: string, h: Held): Promise<void> {
    const n = h.tokens;
    h.tokens = 0;
    if (n <= 0 || !this.#redis.usable()) return Promise.resolve();
    // counted and logged by the store when it fails; the tokens are then lost (under-admission)
    return this.#redis.lease(key, h.spec, NOTHING, n).then(() => undefined, () => undefined);
  }

  /** Every unspent token back to its bucket; called by the store before its connection closes. */
  async close(): Promise<void> {
    if (this.#sweep !== null) clearInterval(this.#sweep);
    this.#sweep = null;
    const refunds: Promise<void>[] = [];
    for (const [key, h] of this.#held) refunds.push(this.#refund(key, h));
    this.#held.clear();
    await Promise.all(refunds);
  }
}
