/**
 * The WAF stage of a route (PRODUCT §1.10), last before forwarding. It inspects the request head
 * synchronously; when the request has a body of an inspectable type (content-type.ts) it reads
 * up to inspectBodyBytes of it — the only time it returns a Promise — and inspects that too.
 *
 * Matches add their severity to the request's anomaly score. In block mode a score at or over
 * the threshold answers 403 `{"error":"forbidden","requestId":…}` (the rule ids go to the
 * access log, never to the client); in detect mode the request goes on. Either way the matched
 * ids land in ctx.wafRules / wafScore and in portcullis_waf_matches_total{rule,action}.
 *
 * A body the WAF was meant to inspect but cannot read (an unknown Content-Encoding, data invalid
 * for its coding) is refused in block mode — 415 or 400 — and only logged in detect mode (issue
 * 22). Inspection never throws into the pipeline: a failure is logged and handled as a match of
 * INSPECTION_FAILED, so a bug in the WAF cannot turn a request into a 500.
 */
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { CONTINUE, type BodyAccess, type RequestContext, type Respond, type Stage, type Verdict } from '../contract/types.js';
import { READABLE_CODINGS, bodyKind, contentCodings, inspectBody, type Coding } from './body.js';
import { readInspectedBody } from './body-prefix.js';
import type { BodyKind } from './content-type.js';
import { Scan, type RuleSet } from './engine.js';
import { S_BODY, type Exclusions } from './exclusions.js';
import type { Rule } from './rule.js';
import { CORRUPT_CODING, INSPECTION_FAILED, UNKNOWN_CODING } from './rules/protocol.js';
import { inspectHead } from './targets.js';

export const BLOCKED: Respond = Object.freeze({ kind: 'respond', status: 403, decision: 'waf_blocked', error: 'forbidden' });
/** The client went away while its body was being read: nothing will be sent; logged as 499. */
export const BODY_UNREADABLE: Respond = Object.freeze({ kind: 'respond', status: 400, decision: 'bad_request', error: 'bad_request' });
/** A body in a coding the WAF cannot undo (RFC 9110 §15.5.16: 415, naming the codings it can). */
export const UNKNOWN_CODING_REFUSED: Respond = Object.freeze({
  kind: 'respond', status: 415, decision: 'bad_request', error: 'unsupported_media_type',
  headers: Object.freeze({ 'accept-encoding': READABLE_CODINGS }),
});
/** A body whose data is not valid for its Content-Encoding. */
export const CORRUPT_CODING_REFUSED: Respond = Object.freeze({ kind: 'respond', status: 400, decision: 'bad_request', error: 'bad_request' });

export interface WafSettings {
  readonly mode: 'block' | 'detect';
  readonly anomalyThreshold: number;
  readonly inspectBodyBytes: number;
}

/** portcullis_waf_matches_total children, resolved on first use (one per rule and action seen). */
export class WafCounters {
  readonly #counter: Counter<'rule' | 'action'>;
  readonly #block = new Map<number, Counter.Internal>();
  readonly #detect = new Map<number, Counter.Internal>();

  constructor(counter: Counter<'rule' | 'action'>) {
    this.#counter = counter;
  }

  count(ids: readonly number[], action: 'block' | 'detect'): void {
    const cache = action === 'block' ? this.#block : this.#detect;
    for (const id of ids) {
      let child = cache.get(id);
      if (child === undefined) {
        child = this.#counter.labels(String(id), action);
        cache.set(id, child);
      }
      child.inc();
    }
  }
}

export class WafStage implements Stage {
  readonly name = 'waf';
  readonly #rules: RuleSet;
  readonly #settings: WafSettings;
  readonly #blocking: boolean;
  readonly #exclusions: Exclusions;
  readonly #counters: WafCounters;
  readonly #logger: Logger;
  /** Reused by the synchronous part of every request; detached before any await. */
  readonly #scratch = new Scan();

  constructor(rules: RuleSet, settings: WafSettings, exclusions: Exclusions, counters: WafCounters, logger: Logger) {
    this.#rules = rules;
    this.#settings = settings;
    this.#blocking = settings.mode === 'block';
    this.#exclusions = exclusions;
    this.#counters = counters;
    this.#logger = logger;
  }

  get mode(): 'block' | 'detect' {
    return this.#settings.mode;
  }

  handle(ctx: RequestContext): Verdict | Promise<Verdict> {
    const scan = this.#scratch;
    scan.reset(this.#exclusions);
    try {
      inspectHead(this.#rules, scan, ctx);
    } catch (err) {
      return this.#failed(ctx, scan, err);
    }
    // Blocked on the head alone: the body is never read (the connection closes instead).
    if (this.#blocking && scan.score >= this.#settings.anomalyThreshold) return this.#finish(ctx, scan);
    const body = ctx.body;
    if (body !== null && ctx.shape === 'edge' && this.#settings.inspectBodyBytes > 0) {
      const contentType = ctx.headers['content-type'];
      const kind = bodyKind(contentType);
      if (kind !== null) {
        const codings = contentCodings(ctx.headers['content-encoding']);
        // A coding the WAF cannot undo: refused unread in block mode, forwarded unread in detect.
        if (codings === null) return this.#unreadable(ctx, scan, UNKNOWN_CODING, UNKNOWN_CODING_REFUSED);
        return this.#withBody(ctx, scan.detach(), body, kind, codings);
      }
    }
    return this.#finish(ctx, scan);
  }

  async #withBody(ctx: RequestContext, scan: Scan, body: BodyAccess, kind: BodyKind, codings: readonly Coding[]): Promise<Verdict> {
    try {
      const read = await readInspectedBody(body, codings, this.#settings.inspectBodyBytes);
      if (read === 'failed') return BODY_UNREADABLE;
      const { bytes, corrupt } = read;
      if (bytes.length > 0) inspectBody(this.#rules, scan, kind, ctx.headers['content-type'], bytes);
      // A match decides first (403 says more than 400); otherwise invalid data is refused.
      if (corrupt && !(this.#blocking && scan.score >= this.#settings.anomalyThreshold)) {
        return this.#unreadable(ctx, scan, CORRUPT_CODING, CORRUPT_CODING_REFUSED);
      }
      return this.#finish(ctx, scan);
    } catch (err) {
      return this.#failed(ctx, scan, err);
    }
  }

  /**
   * A body the WAF cannot read: `rule` is recorded (unless excluded, which lets such bodies
   * through on the route) and, in block mode, the request is answered `refusal`.
   */
  #unreadable(ctx: RequestContext, scan: Scan, rule: Rule, refusal: Respond): Verdict {
    if (scan.exclusions.excludes(rule.id, S_BODY, '')) return this.#finish(ctx, scan);
    if (!scan.has(rule.id)) scan.add(rule);
    if (!this.#blocking) return this.#finish(ctx, scan);
    this.#record(ctx, scan, 'block');
    return refusal;
  }

  /** Inspection threw (a bug): logged, then handled as a match of INSPECTION_FAILED. */
  #failed(ctx: RequestContext, scan: Scan, err: unknown): Verdict {
    this.#logger.error({ requestId: ctx.id, err }, 'WAF inspection failed');
    if (!scan.has(INSPECTION_FAILED.id)) scan.add(INSPECTION_FAILED);
    if (!this.#blocking) return this.#finish(ctx, scan);
    this.#record(ctx, scan, 'block');
    return BLOCKED;
  }

  #finish(ctx: RequestContext, scan: Scan): Verdict {
    if (scan.ids === null) return CONTINUE;
    const blocked = this.#blocking && scan.score >= this.#settings.anomalyThreshold;
    this.#record(ctx, scan, blocked ? 'block' : 'detect');
    return blocked ? BLOCKED : CONTINUE;
  }

  /** Hands the matched ids and score to the request and counts them. */
  #record(ctx: RequestContext, scan: Scan, action: 'block' | 'detect'): void {
    const ids = scan.ids;
    if (ids === null) return;
    scan.ids = null; // the array now belongs to the request
    ctx.wafRules = ids;
    ctx.wafScore = scan.score;
    this.#counters.count(ids, action);
  }
}
