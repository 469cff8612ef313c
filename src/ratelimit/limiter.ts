/**
 * The limiter of one Gateway: picks where each decision is made, in this order (issue 4 §5, §7):
 *
 * 1. no `redis` configured → the in-process store, synchronously;
 * 1½. the policy has a lease (lease.ts) and this process holds a live one for the client → one
 *    of its tokens, synchronously;
 * 2. the client was refused by Redis and its Retry-After has not passed → the deny cache
 *    answers 429, synchronously, without a Redis call;
 * 3. Redis is up → one EVALSHA (the only Promise on this path): one token in the exact mode,
 *    a new lease of up to `lease.tokens` with a lease;
 * 4. Redis is down, or the call failed or timed out → failMode: `open` decides with the
 *    in-process store at once, `closed` answers null (the stage turns it into a 503).
 *
 * Like Traefik's swappable store, the stores share one interface-shaped contract
 * (`take(key, spec) → BucketDecision`) and the same arithmetic (bucket.ts ≡ token-bucket.lua).
 */
import type { BucketDecision, BucketSpec } from './bucket.js';
import type { DenyCache } from './deny-cache.js';
import type { LeaseBook } from './lease.js';
import type { LocalStore } from './local-store.js';
import type { RedisStore } from './redis-store.js';

/** null: Redis is unavailable and failMode is closed. */
export type Outcome = BucketDecision | null;

export class RateLimiter {
  readonly #local: LocalStore;
  readonly #redis: RedisStore | null;
  readonly #deny: DenyCache | null;
  readonly #failOpen: boolean;
  /** Non-null when Redis is configured and some policy has a lease. */
  readonly #leases: LeaseBook | null;

  constructor(local: LocalStore, redis: RedisStore | null, deny: DenyCache | null, failMode: 'open' | 'closed', leases: LeaseBook | null = null) {
    this.#local = local;
    this.#redis = redis;
    this.#deny = deny;
    this.#failOpen = failMode === 'open';
    this.#leases = leases;
  }

  /** Synchronous unless the decision needs Redis. */
  take(key: string, spec: BucketSpec): Outcome | Promise<Outcome> {
    const redis = this.#redis;
    if (redis === null) return this.#local.take(key, spec);
    const leases = spec.lease === null ? null : this.#leases;
    if (leases !== null) {
      const spent = leases.spend(key);
      if (spent !== null) return spent;
    }
    const waitMs = this.#deny!.waitMs(key);
    if (waitMs > 0) {
      // Time to full is not cached; nothing reads it on a denial (fields.ts uses nextMs).
      const nextMs = Math.ceil(waitMs);
      return { allowed: false, remaining: 0, nextMs, fullMs: nextMs };
    }
    if (!redis.usable()) return this.#fallback(key, spec);
    return this.#remote(redis, leases, key, spec);
  }

  async #remote(redis: RedisStore, leases: LeaseBook | null, key: string, spec: BucketSpec): Promise<Outcome> {
    let decision: BucketDecision;
    try {
      decision = await (leases === null ? redis.take(key, spec) : leases.fetch(key, spec));
    } catch {
      // Counted and logged (on state change) by the store; this request goes by failMode.
      return this.#fallback(key, spec);
    }
    if (!decision.allowed) this.#deny!.deny(key, decision.nextMs);
    return decision;
  }

  #fallback(key: string, spec: BucketSpec): Outcome {
    return this.#failOpen ? this.#local.take(key, spec) : null;
  }
}
