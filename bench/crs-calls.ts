// The calls of the CRS cost tools (crs-cost.ts, crs-instr.ts): the bench's WAF-row requests as
// the gateway hands them to the WAF stage, the same one again or, with `fresh`, 5,000 variants
// whose query values `q`, `from` and the POST's prose fields and item names carry a counter —
// more than the evaluator's 4,096-value memo keeps, so no memo answers for them; headers repeat.
import { normaliseTarget } from '../src/route/normalise.js';
import { RequestCtx } from '../src/pipeline/context.js';
import { hostOf } from '../src/pipeline/host.js';
import { BufferedBody } from '../src/proxy/request-body.js';
import type { Stage } from '../src/contract/types.js';
import type { LoadSpec } from './load.js';
import { toHeaders } from './waf-stage.js';

const VARIANTS = 5000;

/** The request context the edge builds for `spec` (`id` its request id). */
export function ctxFor(spec: LoadSpec, id = 'cost'): RequestCtx {
  const target = normaliseTarget(spec.path);
  if (!target.ok) throw new Error(`bench path refused: ${spec.path}`);
  const pairs = Object.entries(spec.headers ?? {});
  const headers = toHeaders(pairs);
  const ctx = new RequestCtx(id, '192.0.2.1', 'edge', spec.method ?? 'GET', hostOf(headers.host), target.path, target.query, 'http', headers, 0n);
  ctx.rawHeaders = pairs.flat();
  return ctx;
}

/** `spec` with call counter `n` in its free-text values (--fresh). */
function variant(spec: LoadSpec, n: number): LoadSpec {
  const path = spec.path.replace('q=running%20shoes', `q=running%20shoes%20${n}`).replace('from=2024-05-01', `from=2024-05-01T${n}`);
  const body = spec.body?.replace(/"(notes|giftMessage|line2)":"/g, `"$1":"ref ${n} `).replace(/Trail runner model (\d)/g, `Trail runner model $1-${n}`);
  return { ...spec, path, ...(body === undefined ? {} : { body }) };
}

/** One call of the stage on `spec`, as the gateway makes it (a fresh body per request). */
export function caller(stage: Stage, spec: LoadSpec, fresh: boolean): () => unknown {
  const specs = fresh ? Array.from({ length: VARIANTS }, (_, n) => variant(spec, n)) : [spec];
  const ctxs = specs.map((s) => ctxFor(s));
  const bodies = specs.map((s) => (s.body === undefined ? null : Buffer.from(s.body, 'utf8')));
  let call = 0;
  return () => {
    const i = call++ % ctxs.length;
    const ctx = ctxs[i]!;
    const bytes = bodies[i]!;
    if (bytes !== null) ctx.body = new BufferedBody(bytes);
    ctx.wafRules = null;
    ctx.wafScore = null;
    return stage.handle(ctx);
  };
}
