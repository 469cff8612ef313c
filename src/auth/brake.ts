/**
 * Brute-force brake (issue 3 §8, reworked in issue 14): opt-in
 * (`auth.bruteForce.maxFailures: 0` by default, PRODUCT §8). A client address
 * that presents more than `maxFailures` forged-looking tokens within
 * `windowSec` is answered 429 instead of 401 for those tokens, for `blockSec`.
 *
 * It never refuses a token that verifies (PRODUCT §8): the auth stage asks it
 * only after a token has failed, so a valid token — cached or freshly
 * verified — from a blocked address still passes. Behind a shared NAT or an
 * untrusted load balancer, one client's bad tokens must not lock out every
 * user of that address. Only guessing counts (see COUNTED): bad signatures,
 * unparseable tokens, unknown keys; an expired or not-yet-valid token is a
 * client bug, answered 401 so the client refreshes it.
 *
 * Counting uses rate-limiter-flexible: RateLimiterRedis on the gateway's Redis
 * client when `redis` is configured, so every instance shares one count, with
 * a RateLimiterMemory as its insurance limiter while Redis is unreachable
 * (each call bounded by the client's commandTimeoutMs); RateLimiterMemory
 * alone without Redis.
 *
 * IPv6 clients are counted per /64: one subscriber usually holds a whole /64,
 * and counting single addresses would let it rotate through 2^64 of them.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { InvalidTokenReason } from './responses.js';

export interface BruteForceConfig {
  readonly maxFailures: number;
  readonly windowSec: number;
  readonly blockSec: number;
}

/** The gateway's Redis connection, when `redis` is configured (ratelimit/compile.ts owns and closes it). */
export interface SharedRedis {
  /** An ioredis Redis or Cluster client (offline queue off, commandTimeout set). */
  readonly client: object;
  readonly keyPrefix: string;
}

/**
 * The failures that look like guessing or forging and count toward the brake. Everything else
 * (expired, not yet valid, wrong audience or issuer, missing exp, two tokens) is an ordinary
 * client or configuration bug and keeps its 401. `inactive` is an introspected token the
 * authorisation server does not know: RFC 7662 §2.2 does not say whether it expired or never
 * existed, and guessing opaque tokens is exactly what a brake is for.
 */
export const COUNTED: ReadonlySet<InvalidTokenReason> = new Set<InvalidTokenReason>([
  'malformed', 'bad_signature', 'unknown_kid', 'alg_not_allowed', 'header_not_allowed', 'inactive',
]);

/** The counting key of a client address: itself for IPv4, its /64 for IPv6. */
export function brakeKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const zone = ip.indexOf('%');
  const addr = zone >= 0 ? ip.slice(0, zone) : ip;
  const [head = '', tail] = addr.split('::');
  const first = head === '' ? [] : head.split(':');
  if (first.length < 4) {
    // '::' compressed zeros fall inside the first four groups: expand just enough.
    const last = tail === undefined || tail === '' ? [] : tail.split(':');
    const lastGroups = last.length + (last.at(-1)?.includes('.') ? 1 : 0); // an embedded IPv4 is two groups
    const zeros = Math.max(0, 8 - first.length - lastGroups);
    for (let i = 0; i < zeros && first.length < 4; i++) first.push('0');
    for (const g of last) if (first.length < 4) first.push(g);
  }
  return first.slice(0, 4).map((g) => (Number.parseInt(g, 16) || 0).toString(16)).join(':') + '::/64';
}

/** What one counted failure did: the remaining block (0: not blocked) and whether it started it. */
export interface BrakeOutcome {
  readonly blockedMs: number;
  readonly justBlocked: boolean;
}

const NOT_BLOCKED: BrakeOutcome = Object.freeze({ blockedMs: 0, justBlocked: false });

export class BruteForceBrake {
  readonly #limiter: RateLimiterAbstract;
  readonly #maxFailures: number;
  readonly #onError: (err: unknown) => void;
  /** Whether the count is shared through Redis (for logs and tests). */
  readonly shared: boolean;

  constructor(cfg: BruteForceConfig, redis: SharedRedis | null, onError: (err: unknown) => void) {
    const opts = { points: cfg.maxFailures, duration: cfg.windowSec, blockDuration: cfg.blockSec };
    const memory = new RateLimiterMemory(opts);
    this.#limiter = redis === null ? memory : new RateLimiterRedis({
      ...opts,
      storeClient: redis.client,
      keyPrefix: `${redis.keyPrefix}brake`,
      // Disconnected: count in memory at once rather than wait for a call that cannot succeed.
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory,
    });
    this.shared = redis !== null;
    this.#maxFailures = cfg.maxFailures;
    this.#onError = onError;
  }

  /** Whether a failure of this kind counts (and, while blocked, is answered 429). */
  counts(reason: InvalidTokenReason): boolean {
    return COUNTED.has(reason);
  }

  /**
   * Counts one failed token: the remaining block when the address is over the limit (this
   * failure crossed it, or it was blocked already). Never rejects: a store error without
   * insurance fails open for the brake (the token is refused with its 401 anyway).
   */
  async recordFailure(ip: string): Promise<BrakeOutcome> {
    try {
      await this.#limiter.consume(brakeKey(ip));
      return NOT_BLOCKED;
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) {
        this.#onError(res);
        return NOT_BLOCKED;
      }
      return { blockedMs: Math.max(1, res.msBeforeNext), justBlocked: res.consumedPoints === this.#maxFailures + 1 };
    }
  }
}
