/**
 * Brute-force brake (issue 3 §8): a client address that presents more than
 * `maxFailures` invalid tokens within `windowSec` is answered 429 for
 * `blockSec`, whatever it sends (a guessed token that happens to be valid
 * included — that is the point). Missing tokens and 403s do not count: they
 * are not guesses.
 *
 * Counting uses rate-limiter-flexible's RateLimiterMemory (fixed window plus
 * block duration, self-expiring entries). The per-request question "is this
 * address blocked?" must not cost a Promise on the hot path, so blocks are
 * mirrored in a bounded map read synchronously. In-memory only, per
 * instance: a Redis-backed store (shared across instances) is future work.
 *
 * IPv6 clients are counted per /64: one subscriber usually holds a whole /64,
 * and counting single addresses would let it rotate through 2^64 of them.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export interface BruteForceConfig {
  readonly maxFailures: number;
  readonly windowSec: number;
  readonly blockSec: number;
}

/** Upper bound on addresses remembered as blocked; the oldest block is forgotten first. */
const MAX_BLOCKED = 100_000;

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

export class BruteForceBrake {
  readonly #limiter: RateLimiterMemory;
  /** key → blocked until (ms since the epoch). */
  readonly #blocked = new Map<string, number>();
  readonly #onError: (err: unknown) => void;

  constructor(cfg: BruteForceConfig, onError: (err: unknown) => void) {
    this.#limiter = new RateLimiterMemory({ points: cfg.maxFailures, duration: cfg.windowSec, blockDuration: cfg.blockSec });
    this.#onError = onError;
  }

  /** Remaining block of `ip` in ms, 0 when it is not blocked. Synchronous, allocation-free when nobody is blocked. */
  blockedMs(ip: string, nowMs: number): number {
    if (this.#blocked.size === 0) return 0;
    const key = brakeKey(ip);
    const until = this.#blocked.get(key);
    if (until === undefined) return 0;
    if (until <= nowMs) {
      this.#blocked.delete(key);
      return 0;
    }
    return until - nowMs;
  }

  /**
   * Counts one invalid token; resolves to the block in ms when this failure crossed the
   * limit, else 0. The in-memory limiter settles within the same tick, so there is no I/O
   * to put a deadline on; a store error fails open for the brake (the token is refused anyway).
   */
  async recordFailure(ip: string): Promise<number> {
    const key = brakeKey(ip);
    try {
      await this.#limiter.consume(key);
      return 0;
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) {
        this.#onError(res);
        return 0;
      }
      const ms = Math.max(1, res.msBeforeNext);
      if (!this.#blocked.has(key) && this.#blocked.size >= MAX_BLOCKED) {
        const oldest = this.#blocked.keys().next();
        if (oldest.done !== true) this.#blocked.delete(oldest.value);
      }
      this.#blocked.set(key, Date.now() + ms);
      return ms;
    }
  }
}
