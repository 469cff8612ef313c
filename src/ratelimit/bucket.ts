/**
 * The token bucket itself, in process: the same arithmetic as token-bucket.lua, line for line,
 * so the in-process store and Redis give the same decisions (test/ratelimit/equivalence.test.ts).
 *
 * A bucket holds up to `capacity` tokens and gains `refillPerSecond` continuously (a true token
 * bucket, not fixed windows: rate-limiter-flexible has no such limiter, which is why it is not
 * used here). A request takes one token or is denied; a denial takes nothing.
 */

/** One decision, as both stores report it. */
export interface BucketDecision {
  readonly allowed: boolean;
  /** Whole tokens left after this request. */
  readonly remaining: number;
  /** Milliseconds until the next whole token (0 when one is available). */
  readonly nextMs: number;
  /** Milliseconds until the bucket is full again. */
  readonly fullMs: number;
}

/** What a policy tells a store; built once per policy. */
export interface BucketSpec {
  readonly capacity: number;
  readonly refillPerSecond: number;
  /** String forms for the Redis script's ARGV, made once rather than per call. */
  readonly capacityArg: string;
  readonly refillArg: string;
  /** The policy's bounded local lease (lease.ts); null in the exact mode, the default. */
  readonly lease: LeaseSpec | null;
}

/** `rateLimits.policies.<name>.lease`, compiled. */
export interface LeaseSpec {
  /** Tokens asked for per Redis call. */
  readonly tokens: number;
  readonly tokensArg: string;
  readonly ttlMs: number;
}

export function bucketSpec(capacity: number, refillPerSecond: number, lease: { tokens: number; ttlMs: number } | null = null): BucketSpec {
  return Object.freeze({
    capacity, refillPerSecond, capacityArg: String(capacity), refillArg: String(refillPerSecond),
    lease: lease === null ? null : Object.freeze({ tokens: lease.tokens, tokensArg: String(lease.tokens), ttlMs: lease.ttlMs }),
  });
}

/** Mutable bucket state: tokens at time `ts` (ms, the store's clock). */
export class BucketState {
  tokens: number;
  ts: number;
  /** When the bucket will be full again: past that it is as good as absent (eviction). */
  fullAt: number;

  constructor(tokens: number, ts: number) {
    this.tokens = tokens;
    this.ts = ts;
    this.fullAt = ts;
  }
}

/** Decides one request against `state` at `now` (ms), updating the state when it is allowed. */
export function take(state: BucketState, spec: BucketSpec, now: number): BucketDecision {
  const { capacity, refillPerSecond: rate } = spec;
  let tokens = state.tokens;
  // A clock that went backwards refills nothing (as in the script).
  if (now > state.ts) tokens = Math.min(capacity, tokens + ((now - state.ts) * rate) / 1000);
  let allowed = false;
  if (tokens >= 1) {
    allowed = true;
    tokens -= 1;
  }
  const fullMs = Math.ceil(((capacity - tokens) * 1000) / rate);
  if (allowed) {
    state.tokens = tokens;
    state.ts = now;
    state.fullAt = now + fullMs;
  }
  const nextMs = tokens < 1 ? Math.ceil(((1 - tokens) * 1000) / rate) : 0;
  return { allowed, remaining: Math.floor(tokens), nextMs, fullMs };
}
