/**
 * The WAF stage when `waf.crs` is configured: the same contract as the built-in stage
 * (../stage.ts) — block mode answers 403 `{"error":"forbidden"}`, detect mode only records,
 * ctx.wafRules / wafScore and portcullis_waf_matches_total carry what matched — with CRS
 * deciding: a request is blocked when a CRS rule denies it (949110, the anomaly-score
 * evaluation, or 949111 in phase 1 with early blocking). wafScore is CRS's
 * tx.blocking_inbound_anomaly_score.
 *
 * Phase 1 runs on the head. Phase 2 runs after the body prefix is read (edge shape, an
 * inspectable Content-Type, inspectBodyBytes > 0) or at once without one — the forward-auth
 * shape has no body, so CRS sees the URI and headers there, as the built-in rules do.
 */
import { CONTINUE, type BodyAccess, type RequestContext, type Stage, type Verdict } from '../../contract/types.js';
import { bodyKind, contentCodings, type Coding } from '../body.js';
import { readInspectedBody } from '../body-prefix.js';
import { BLOCKED, BODY_UNREADABLE, CORRUPT_CODING_REFUSED, UNKNOWN_CODING_REFUSED, type WafCounters, type WafSettings } from '../stage.js';
import type { LoadedCrs } from './loader.js';
import { loadBody, loadHead } from './request.js';
import { Transaction } from './transaction.js';

/**
 * REQUEST_PROTOCOL, which CRS checks against tx.allowed_http_versions and reads to exempt HTTP/2
 * from framing rules (920180): Node's HTTP/2 requests carry pseudo-headers, HTTP/1.x none.
 */
function protocolOf(ctx: RequestContext): string {
  return ctx.headers[':method'] !== undefined ? 'HTTP/2.0' : 'HTTP/1.1';
}

export class CrsStage implements Stage {
  readonly name = 'waf';
  readonly #crs: LoadedCrs;
  readonly #settings: WafSettings;
  readonly #blocking: boolean;
  readonly #counters: WafCounters;

  constructor(crs: LoadedCrs, settings: WafSettings, counters: WafCounters) {
    this.#crs = crs;
    this.#settings = settings;
    this.#blocking = settings.mode === 'block';
    this.#counters = counters;
  }

  get mode(): 'block' | 'detect' {
    return this.#settings.mode;
  }

  handle(ctx: RequestContext): Verdict | Promise<Verdict> {
    const t = new Transaction();
    for (const [k, v] of this.#crs.initialTx) t.tx.set(k, v);
    loadHead(t, ctx, protocolOf(ctx));
    const ev = this.#crs.evaluator;
    ev.run(t, 1, this.#blocking);
    if (this.#blocking && t.interrupted && t.engine === 'on') return this.#finish(ctx, t);
    const body = ctx.body;
    if (body !== null && ctx.shape === 'edge' && this.#settings.inspectBodyBytes > 0) {
      const contentType = ctx.headers['content-type'];
      if (bodyKind(contentType) !== null) {
        const codings = contentCodings(ctx.headers['content-encoding']);
        // A body CRS was meant to inspect but cannot read is refused in block mode, as by the built-in stage (issue 22 §6).
        if (codings === null) return this.#unreadable(ctx, t, UNKNOWN_CODING_REFUSED);
        return this.#withBody(ctx, t, body, codings);
      }
    }
    ev.run(t, 2, this.#blocking);
    return this.#finish(ctx, t);
  }

  async #withBody(ctx: RequestContext, t: Transaction, body: BodyAccess, codings: readonly Coding[]): Promise<Verdict> {
    const read = await readInspectedBody(body, codings, this.#settings.inspectBodyBytes);
    if (read === 'failed') return BODY_UNREADABLE;
    if (read.bytes.length > 0) loadBody(t, ctx.headers['content-type'], read.bytes);
    this.#crs.evaluator.run(t, 2, this.#blocking);
    const verdict = this.#finish(ctx, t);
    // A match decides first (403 says more than 400); otherwise invalid data is refused in block mode.
    return read.corrupt && this.#blocking && verdict !== BLOCKED ? CORRUPT_CODING_REFUSED : verdict;
  }

  /** A coding CRS cannot undo: detect mode goes on without the body; block mode answers `refusal`. */
  #unreadable(ctx: RequestContext, t: Transaction, refusal: Verdict): Verdict {
    if (this.#blocking) return refusal;
    this.#crs.evaluator.run(t, 2, this.#blocking);
    return this.#finish(ctx, t);
  }

  #finish(ctx: RequestContext, t: Transaction): Verdict {
    const ids = t.matchedIds;
    const score = Number(t.tx.get('blocking_inbound_anomaly_score') ?? t.tx.get('anomaly_score') ?? 0) || 0;
    const blocked = this.#blocking && t.interrupted && t.engine === 'on';
    if (ids.length === 0 && !blocked) return CONTINUE;
    ctx.wafRules = ids;
    ctx.wafScore = score;
    this.#counters.count(ids, blocked ? 'block' : 'detect');
    return blocked ? BLOCKED : CONTINUE;
  }
}
