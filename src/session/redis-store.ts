/**
 * `store: redis`: the cookie holds only the session id (256 random bits); the session, sealed as
 * in the cookie store (a Redis dump holds no readable tokens), lives under
 * `<keyPrefix>session:<SHA-256 of the id>` with a TTL — so the key names in Redis do not reveal
 * live cookie values either. Sessions survive gateway restarts and are shared by every instance;
 * deleting the key revokes one at once (docs/sign-in.md).
 *
 * Every call is bounded by the redis block's commandTimeoutMs; a Redis that does not answer
 * means no session (the browser is sent to sign in), never a hung request.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Cluster, Redis } from 'ioredis';
import type { Sealer } from './sealer.js';
import { asSession, type SessionData } from './session.js';
import type { SessionStore } from './store.js';

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
/** A sealed session is a few KiB; anything far larger in Redis is not ours. */
const MAX_SEALED_BYTES = 64 * 1024;

export class RedisSessionStore implements SessionStore {
  readonly #redis: Redis | Cluster;
  readonly #sealer: Sealer;
  readonly #prefix: string;
  readonly #logger: Logger;

  constructor(redis: Redis | Cluster, sealer: Sealer, keyPrefix: string, logger: Logger) {
    this.#redis = redis;
    this.#sealer = sealer;
    this.#prefix = keyPrefix + 'session:';
    this.#logger = logger;
  }

  #key(id: string): string {
    return this.#prefix + createHash('sha256').update(id).digest('base64url');
  }

  async load(cookieValue: string): Promise<SessionData | null> {
    if (!SESSION_ID.test(cookieValue)) return null;
    let sealed: string | null;
    try {
      sealed = await this.#redis.get(this.#key(cookieValue));
    } catch (err) {
      this.#logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'session store unavailable');
      return null;
    }
    if (sealed === null) return null;
    const s = asSession(await this.#sealer.open('session', sealed, MAX_SEALED_BYTES));
    // The id inside must be the one asked for: a value copied under another key is not that session.
    return s !== null && s.id === cookieValue ? s : null;
  }

  async save(s: SessionData, ttlSec: number): Promise<string> {
    await this.#redis.set(this.#key(s.id), await this.#sealer.seal('session', s), 'EX', Math.max(1, ttlSec));
    return s.id;
  }

  async destroy(cookieValue: string): Promise<void> {
    if (!SESSION_ID.test(cookieValue)) return;
    await this.#redis.del(this.#key(cookieValue));
  }

  /** Flow states seen, for single use across instances: SET NX with the flow's lifetime. */
  async claimOnce(name: string, ttlSec: number): Promise<boolean> {
    const done = await this.#redis.set(this.#prefix + 'used:' + createHash('sha256').update(name).digest('base64url'), '1', 'EX', ttlSec, 'NX');
    return done === 'OK';
  }

  /** Not ready until connected: with the offline queue off, a call before that fails at once. */
  notReadyReason(): string | null {
    return this.#redis.status === 'ready' ? null : `session store redis ${this.#redis.status}`;
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}
