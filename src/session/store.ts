/**
 * Where sessions live (`sessions.store`): one small interface, two implementations, as Traefik's
 * rate limiter has its in-memory and Redis limiters behind one (STYLE §1).
 */
import type { SessionData } from './session.js';

export interface SessionStore {
  /** The session a cookie value stands for, or null (absent, expired, revoked, forged). */
  load(cookieValue: string): Promise<SessionData | null>;
  /** Stores `s` for `ttlSec`; resolves the cookie value to send. */
  save(s: SessionData, ttlSec: number): Promise<string>;
  /** Ends the session for good where the store can (Redis); the caller clears the cookie. */
  destroy(cookieValue: string): Promise<void>;
  /** For /readyz: null when usable. */
  notReadyReason?(): string | null;
  close(): Promise<void>;
}
