/**
 * `store: cookie`: the whole session, sealed (sealer.ts), is the cookie value. Nothing on the
 * server, so nothing to share between instances or lose on restart; the price is that a session
 * cannot be revoked before it expires, only forgotten by the browser (docs/sign-in.md).
 */
import type { Sealer } from './sealer.js';
import { asSession, type SessionData } from './session.js';
import type { SessionStore } from './store.js';
import { CHUNK_BYTES, MAX_CHUNKS } from './cookies.js';

export class CookieSessionStore implements SessionStore {
  readonly #sealer: Sealer;

  constructor(sealer: Sealer) {
    this.#sealer = sealer;
  }

  async load(cookieValue: string): Promise<SessionData | null> {
    return asSession(await this.#sealer.open('session', cookieValue, CHUNK_BYTES * MAX_CHUNKS));
  }

  save(s: SessionData): Promise<string> {
    return this.#sealer.seal('session', s);
  }

  async destroy(): Promise<void> {
    // Nothing server-side: clearing the cookie is all there is.
  }

  async close(): Promise<void> {
    // no resources
  }
}
