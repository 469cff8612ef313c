/**
 * Operational warnings that an attacker or an outage can repeat thousands of times a second
 * (issue 21: pool queue timeouts, HTTP/2 sessions sent away): the first of a kind is logged at
 * once, then at most one line per kind every INTERVAL_MS, carrying how many were left out since
 * (`suppressed`). The metrics count every one of them, so nothing is lost but log volume.
 *
 * Bounded: kinds are a fixed vocabulary chosen by the caller (never client input), and the map
 * holds at most MAX_KINDS of them.
 */
import type { Logger } from 'pino';

const INTERVAL_MS = 10_000;
const MAX_KINDS = 256;

interface KindState {
  lastLoggedAt: number;
  suppressed: number;
}

export class RateLimitedWarnings {
  readonly #logger: Logger;
  readonly #kinds = new Map<string, KindState>();
  readonly #intervalMs: number;

  constructor(logger: Logger, intervalMs = INTERVAL_MS) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  /** Logs `msg` with `fields` at warn, unless a line of this `kind` was written less than the interval ago. */
  warn(kind: string, fields: Record<string, unknown>, msg: string): void {
    const now = Date.now();
    let s = this.#kinds.get(kind);
    if (s === undefined) {
      if (this.#kinds.size >= MAX_KINDS) this.#kinds.clear();
      s = { lastLoggedAt: -Infinity, suppressed: 0 };
      this.#kinds.set(kind, s);
    }
    if (now - s.lastLoggedAt < this.#intervalMs) {
      s.suppressed++;
      return;
    }
    const suppressed = s.suppressed;
    s.lastLoggedAt = now;
    s.suppressed = 0;
    this.#logger.warn(suppressed === 0 ? fields : { ...fields, suppressed }, msg);
  }
}
