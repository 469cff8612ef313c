/**
 * The response fields of a limited route, per draft-ietf-httpapi-ratelimit-headers-11 (May 2026;
 * the syntax is unchanged since -09): two Structured Field Lists (RFC 9651).
 *
 *   RateLimit-Policy: "<policy>";q=<capacity>;w=<window>        (§3, constant per policy)
 *   RateLimit: "<policy>";r=<remaining>;t=<seconds>             (§4, per response)
 *
 * Mapping a token bucket onto quota + window (the draft leaves the algorithm open, §1.1):
 * - q = capacity (the burst), w = ceil(capacity / refillPerSecond) (the time an empty bucket
 *   takes to fill), so q/w is the sustained rate, rounded down;
 * - allowed: r = whole tokens left, t = seconds until the bucket is full again (ceil), the time
 *   after which the quota is back to q;
 * - denied: r = 0, t = Retry-After = seconds until the next token (ceil, at least 1): §6 says a
 *   Retry-After SHOULD NOT point earlier than the end of the effective window, so they are equal.
 * No `pk` parameter: partition keys would echo client identifiers (§6.1, §8.2).
 * Policy names are the config's (letters, digits, `_.-`): valid sf-strings with no escaping.
 */
import type { BucketDecision } from './bucket.js';

export const RATELIMIT_POLICY = 'ratelimit-policy';
export const RATELIMIT = 'ratelimit';
export const RETRY_AFTER = 'retry-after';

export class PolicyFields {
  /** The whole RateLimit-Policy value. */
  readonly policy: string;
  /** `"<policy>";r=`, completed per response. */
  readonly #limitHead: string;

  constructor(name: string, capacity: number, refillPerSecond: number) {
    const windowSec = Math.max(1, Math.ceil(capacity / refillPerSecond));
    this.policy = `"${name}";q=${capacity};w=${windowSec}`;
    this.#limitHead = `"${name}";r=`;
  }

  /** The RateLimit value for a decision (denied: t equals retryAfterSec). */
  limit(d: BucketDecision): string {
    const t = d.allowed ? Math.ceil(d.fullMs / 1000) : retryAfterSec(d.nextMs);
    return this.#limitHead + d.remaining + ';t=' + t;
  }
}

/** RFC 9110 §10.2.3 delay-seconds: whole seconds, rounded up so a client never retries too early; at least 1. */
export function retryAfterSec(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}
