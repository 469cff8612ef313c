/**
 * The rate-limit stage of a route (PRODUCT §1.9): takes one token from the bucket of the
 * route's policy for this client, answers 429 when there is none, and on every outcome puts
 * the IETF RateLimit-Policy / RateLimit fields on the response the request ends with — the
 * upstream's when forwarded (ctx.responseHeaders), the 429 itself, or a later stage's denial.
 *
 * It returns CONTINUE or its 429 synchronously when the deny cache or the in-process store
 * answers, and a Promise only when Redis is asked (STYLE §2: await only real I/O).
 *
 * `failMode: closed` with Redis away answers 503 `{"error":"unavailable"}` with decision
 * `upstream_error`: the gateway could not reach a dependency, which is what that decision
 * counts; `rate_limited` would blame clients for an outage and hide it in the 429 dashboards.
 */
import type { Counter } from 'prom-client';
import type { ChildSpan } from '../observe/tracing/tracing.js';
import { CONTINUE, type RequestContext, type Respond, type Stage, type Verdict } from '../contract/types.js';
import { addResponseHeader } from '../contract/respond.js';
import type { BucketSpec } from './bucket.js';
import type { ClientKey } from './keys.js';
import type { Outcome, RateLimiter } from './limiter.js';
import { RATELIMIT, RATELIMIT_POLICY, RETRY_AFTER, retryAfterSec, type PolicyFields } from './fields.js';

/** A policy compiled once per Gateway and shared by the routes that name it. */
export interface CompiledPolicy {
  readonly name: string;
  readonly spec: BucketSpec;
  readonly key: ClientKey;
  readonly fields: PolicyFields;
}

const UNAVAILABLE: Respond = Object.freeze({
  kind: 'respond', status: 503, decision: 'upstream_error', error: 'unavailable',
  headers: Object.freeze({ [RETRY_AFTER]: '1' }),
});

export class RateLimitStage implements Stage {
  readonly name = 'ratelimit';
  readonly #policy: CompiledPolicy;
  readonly #limiter: RateLimiter;
  /** portcullis_ratelimit_rejections_total{route,policy}, resolved at compile. */
  readonly #rejections: Counter.Internal;

  constructor(policy: CompiledPolicy, limiter: RateLimiter, rejections: Counter.Internal) {
    this.#policy = policy;
    this.#limiter = limiter;
    this.#rejections = rejections;
  }

  get policy(): string {
    return this.#policy.name;
  }

  handle(ctx: RequestContext): Verdict | Promise<Verdict> {
    const outcome = this.#limiter.take(this.#policy.key.keyOf(ctx), this.#policy.spec);
    if (!(outcome instanceof Promise)) return this.#verdict(ctx, outcome);
    // A Promise means Redis was asked (the command is on the wire already): its CLIENT span.
    // The bucket key is not an attribute: it is a client address or a subject.
    const trace = ctx.trace;
    return this.#settle(ctx, outcome, trace ? trace.child('ratelimit redis', { 'db.system.name': 'redis', 'portcullis.ratelimit.policy': this.#policy.name }) : null);
  }

  async #settle(ctx: RequestContext, pending: Promise<Outcome>, span: ChildSpan | null): Promise<Verdict> {
    const outcome = await pending;
    if (span !== null) {
      if (outcome === null) span.fail('redis unavailable');
      span.end();
    }
    return this.#verdict(ctx, outcome);
  }

  #verdict(ctx: RequestContext, d: Outcome): Verdict {
    if (d === null) return UNAVAILABLE;
    const fields = this.#policy.fields;
    addResponseHeader(ctx, RATELIMIT_POLICY, fields.policy);
    addResponseHeader(ctx, RATELIMIT, fields.limit(d));
    if (d.allowed) return CONTINUE;
    this.#rejections.inc();
    return {
      kind: 'respond', status: 429, decision: 'rate_limited', error: 'rate_limited',
      headers: { [RETRY_AFTER]: String(retryAfterSec(d.nextMs)) },
    };
  }
}
