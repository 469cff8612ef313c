/**
 * The WAF stage of a route (PRODUCT §1.10), last before forwarding. It inspects the request head
 * synchronously; when the request has a body of an inspectable type (content-type.ts) it reads
 * up to inspectBodyBytes of it — the only time it returns a Promise — and inspects that too.
 *
 * Matches add their severity to the request's anomaly score. In block mode a score at or over
 * the threshold answers 403 `{"error":"forbidden","requestId":…}` (the rule ids go to the
 * access log, never to the client); in detect mode the request goes on. Either way the matched
 * ids land in ctx.wafRules / wafScore and in portcullis_waf_matches_total{rule,action}.
 */
import type { Counter } from 'prom-client';
import { CONTINUE, type BodyAccess, type RequestContext, type Respond, type Stage, type Verdict } from '../pipeline/types.js';
import { bodyKind, canDecode, inspectBody } from './body.js';
import { readInspectedBody } from './body-prefix.js';
import type { BodyKind } from './content-type.js';
import { Scan, type RuleSet } from './engine.js';
import type { Exclusions } from './exclusions.js';
import { inspectHead } from './targets.js';

export const BLOCKED: Respond = Object.freeze({ kind: 'respond', status: 403, decision: 'waf_blocked', error: 'forbidden' });
/** The client went away while its body was being read: nothing will be sent; logged as 499. */
export const BODY_UNREADABLE: Respond = Object.freeze({ kind: 'respond', status: 400, decision: 'bad_request', error: 'bad_request' });

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
  /** Reused by the synchronous part of every request; detached before any await. */
  readonly #scratch = new Scan();

  constructor(rules: RuleSet, settings: WafSettings, exclusions: Exclusions, counters: WafCounters) {
    this.#rules = rules;
    this.#settings = settings;
    this.#blocking = settings.mode === 'block';
    this.#exclusions = exclusions;
    this.#counters = counters;
  }

  get mode(): 'block' | 'detect' {
    return this.#settings.mode;
  }

  handle(ctx: RequestContext): Verdict | Promise<Verdict> {
    const scan = this.#scratch;
    scan.reset(this.#exclusions);
    inspectHead(this.#rules, scan, ctx);
    // Blocked on the head alone: the body is never read (the connection closes instead).
    if (this.#blocking && scan.score >= this.#settings.anomalyThreshold) return this.#finish(ctx, scan);
    const body = ctx.body;
    if (body !== null && ctx.shape === 'edge' && this.#settings.inspectBodyBytes > 0) {
      const contentType = ctx.headers['content-type'];
      const kind = bodyKind(contentType);
      const encoding = ctx.headers['content-encoding'];
      if (kind !== null && canDecode(encoding)) return this.#withBody(ctx, scan.detach(), body, kind);
    }
    return this.#finish(ctx, scan);
  }

  async #withBody(ctx: RequestContext, scan: Scan, body: BodyAccess, kind: BodyKind): Promise<Verdict> {
    const bytes = await readInspectedBody(ctx, body, this.#settings.inspectBodyBytes);
    if (bytes === 'failed') return BODY_UNREADABLE;
    if (bytes !== null) inspectBody(this.#rules, scan, kind, ctx.headers['content-type'], bytes);
    return this.#finish(ctx, scan);
  }

  #finish(ctx: RequestContext, scan: Scan): Verdict {
    const ids = scan.ids;
    if (ids === null) return CONTINUE;
    scan.ids = null; // the array now belongs to the request
    const blocked = this.#blocking && scan.score >= this.#settings.anomalyThreshold;
    ctx.wafRules = ids;
    ctx.wafScore = scan.score;
    this.#counters.count(ids, blocked ? 'block' : 'detect');
    return blocked ? BLOCKED : CONTINUE;
  }
}
