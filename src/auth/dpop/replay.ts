/**
 * RFC 9449 §11.1: a proof `jti` is accepted once within the window its `iat` check allows.
 *
 * With `redis` configured (and `replayStore: auto`), one `SET key 1 PX <window> NX` per proof on
 * the gateway's shared connection: every instance sees every other's proofs, and Redis expires
 * the key when the window closes. Redis unreachable (the client fails within commandTimeoutMs):
 * rateLimits.failMode `open` remembers the jti in this instance's set instead (replays across
 * instances go unseen during the outage; logged once per outage), `closed` answers 503.
 *
 * Without Redis, a bounded in-memory set. Every entry is kept for the same window, so insertion
 * order is expiry order and expired entries are dropped from the front as new ones arrive. When
 * the set is full of entries still inside their window, a new proof is refused (503) rather than
 * forgetting one that could then be replayed.
 *
 * Keys are scoped to the proof key, so one client's jti values cannot collide with another's: in
 * the local set the thumbprint (always 43 characters) and the jti (≤ 256, proof.ts) as they are;
 * in Redis a SHA-256 of both, a fixed-length key whatever the client sends (hashed only there:
 * the round trip dwarfs it, and the local path is every request's without Redis).
 */
import { hash } from 'node:crypto';
import type { Logger } from 'pino';

export type ReplayOutcome = 'fresh' | 'replayed' | 'unavailable';

/** The one ioredis command used here (the gateway's client: offline queue off, commandTimeout set). */
interface SetNx {
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<string | null>;
}

export class LocalReplaySet {
  readonly #seen = new Map<string, number>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#seen.size;
  }

  remember(key: string, nowMs: number, windowMs: number): ReplayOutcome {
    for (const [k, expiresAtMs] of this.#seen) {
      if (expiresAtMs > nowMs) break;
      this.#seen.delete(k);
    }
    const had = this.#seen.get(key);
    if (had !== undefined && had > nowMs) return 'replayed';
    if (this.#seen.size >= this.#maxEntries) return 'unavailable';
    // Deleted first so the entry moves to the end: the order of the map stays the order of expiry.
    this.#seen.delete(key);
    this.#seen.set(key, nowMs + windowMs);
    return 'fresh';
  }
}

export class ReplayStore {
  readonly #local: LocalReplaySet;
  readonly #redis: SetNx | null;
  readonly #prefix: string;
  readonly #failOpen: boolean;
  readonly #logger: Logger;
  #redisDown = false;

  constructor(local: LocalReplaySet, redis: { client: object; keyPrefix: string } | null, failOpen: boolean, logger: Logger) {
    this.#local = local;
    this.#redis = redis === null ? null : (redis.client as SetNx);
    this.#prefix = (redis?.keyPrefix ?? '') + 'dpop:jti:';
    this.#failOpen = failOpen;
    this.#logger = logger;
  }

  /** The Redis key of a proof: fixed length, scoped to the proof key. */
  static redisKeyOf(thumbprint: string, jti: string): string {
    return hash('sha256', thumbprint + '\n' + jti, 'base64url');
  }

  remember(thumbprint: string, jti: string, nowMs: number, windowMs: number): ReplayOutcome | Promise<ReplayOutcome> {
    const local = thumbprint + ' ' + jti;
    if (this.#redis === null) return this.#local.remember(local, nowMs, windowMs);
    return this.#redis.set(this.#prefix + ReplayStore.redisKeyOf(thumbprint, jti), '1', 'PX', windowMs, 'NX').then(
      (ok) => {
        if (this.#redisDown) {
          this.#redisDown = false;
          this.#logger.info('DPoP replay store: Redis reachable again');
        }
        return ok === null ? 'replayed' : 'fresh';
      },
      (err: unknown) => {
        if (!this.#redisDown) {
          this.#redisDown = true;
          this.#logger.warn({ err, failMode: this.#failOpen ? 'open' : 'closed' }, 'DPoP replay store: Redis unreachable');
        }
        return this.#failOpen ? this.#local.remember(local, nowMs, windowMs) : 'unavailable';
      },
    );
  }
}
