/**
 * `redis` + `rateLimits` → one RateLimiter per Gateway and one stage per limited route
 * (STYLE §2, Traefik's `New`: all parsing and defaulting here, nothing at request time).
 *
 * The Redis client, when configured, is a Gateway Resource: /readyz reports it and the Gateway
 * closes it when retired. The in-process buckets are a Resource too, with nothing to close, so
 * that a reload can adopt the previous Gateway's buckets (as auth adopts its key stores): SIGHUP
 * must not hand every client a fresh burst. Redis buckets are untouched by reloads anyway.
 */
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import type { GatewayDeps, Resource } from '../contract/types.js';
import type { Stage } from '../contract/types.js';
import { bucketSpec } from './bucket.js';
import { DenyCache } from './deny-cache.js';
import { LeaseBook } from './lease.js';
import { PolicyFields } from './fields.js';
import { compileClientKey } from './keys.js';
import { RateLimiter } from './limiter.js';
import { LocalStore } from './local-store.js';
import { createRedisClient, type RedisClient } from './redis-client.js';
import { RedisStore } from './redis-store.js';
import { tokenBucketScript } from './script.js';
import { RateLimitStage, type CompiledPolicy } from './stage.js';

const DEFAULT_KEY_PREFIX = 'portcullis:';
const DEFAULT_LOCAL_MAX_BUCKETS = 100_000;
/** Clients currently refused; each entry lives one Retry-After at most. */
const DENY_CACHE_MAX = 10_000;
/** Clients with a lease in this process at once (about 150 bytes each); the oldest is refunded past it. */
const LEASE_MAX_KEYS = 100_000;

const monotonicMs = (): number => performance.now();

/** The in-process buckets as a Resource: always ready, nothing to close, adoptable on reload. */
export class LocalBuckets implements Resource {
  readonly name = 'ratelimit-local';
  readonly store: LocalStore;
  readonly maxBuckets: number;

  constructor(maxBuckets: number) {
    this.maxBuckets = maxBuckets;
    this.store = new LocalStore(maxBuckets, monotonicMs);
  }

  notReadyReason(): null {
    return null;
  }

  async close(): Promise<void> {
    // Memory only; a Gateway that adopted these buckets keeps using them.
  }
}

export class RateLimits {
  readonly #policies: ReadonlyMap<string, CompiledPolicy>;
  readonly #limiter: RateLimiter;
  readonly #deps: GatewayDeps;
  readonly resources: readonly Resource[];
  /** The gateway's Redis connection and key prefix, for the brute-force brake; null without `redis`. */
  readonly sharedRedis: { readonly client: RedisClient; readonly keyPrefix: string } | null;

  /** `previous`: the resources of the Gateway being replaced on reload, if any. */
  constructor(cfg: GatewayConfig, deps: GatewayDeps, previous: readonly Resource[] = []) {
    const limits = cfg.rateLimits;
    const failMode = limits?.failMode ?? 'open';
    const redisCfg = cfg.redis;
    // In-process keys need no prefix: they never leave this process.
    const keyPrefix = redisCfg === undefined ? '' : redisCfg.keyPrefix ?? DEFAULT_KEY_PREFIX;
    const policies = new Map<string, CompiledPolicy>();
    for (const [name, p] of Object.entries(limits?.policies ?? {})) {
      policies.set(name, Object.freeze({
        name,
        spec: bucketSpec(p.capacity, p.refillPerSecond, redisCfg === undefined ? null : p.lease ?? null),
        key: compileClientKey(p.key, keyPrefix, name),
        fields: new PolicyFields(name, p.capacity, p.refillPerSecond),
      }));
    }
    this.#policies = policies;
    this.#deps = deps;
    const maxBuckets = limits?.localMaxBuckets ?? DEFAULT_LOCAL_MAX_BUCKETS;
    const adopted = previous.find((r): r is LocalBuckets => r instanceof LocalBuckets && r.maxBuckets === maxBuckets);
    const local = adopted ?? new LocalBuckets(maxBuckets);
    let redis: RedisStore | null = null;
    if (redisCfg !== undefined) {
      redis = new RedisStore(createRedisClient(redisCfg, tokenBucketScript()), {
        logger: deps.logger, errors: deps.metrics.redisErrorsTotal, failMode,
      });
    }
    this.resources = redis === null ? [local] : [local, redis];
    this.sharedRedis = redis === null ? null : Object.freeze({ client: redis.client, keyPrefix });
    const ttls = [...policies.values()].flatMap((p) => (p.spec.lease === null ? [] : [p.spec.lease.ttlMs]));
    const leases = redis === null || ttls.length === 0 ? null : new LeaseBook(redis, monotonicMs, LEASE_MAX_KEYS, Math.min(...ttls));
    this.#limiter = new RateLimiter(local.store, redis, redis === null ? null : new DenyCache(DENY_CACHE_MAX, monotonicMs), failMode, leases);
  }

  /** The route's rate-limit stage, or null when it names no policy. */
  stageFor(route: RouteConfig): Stage | null {
    if (route.rateLimit === undefined) return null;
    const policy = this.#policies.get(route.rateLimit);
    // semantic.ts has rejected unknown names; reaching this is a bug.
    if (policy === undefined) throw new Error(`route ${route.name}: unknown rate-limit policy ${route.rateLimit}`);
    const rejections = this.#deps.metrics.ratelimitRejectionsTotal.labels(route.name, policy.name);
    return new RateLimitStage(policy, this.#limiter, rejections);
  }
}
