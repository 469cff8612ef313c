// WAF micro benchmark (issue 5 cost): the compiled WAF stage in a loop on the two requests of the
// `npm run bench` WAF rows (bench/waf-rows.ts), plus a prose-heavy JSON body and a query with
// free-text values, with no sockets. Each figure is µs per request; ratios are against work the
// gateway does anyway, measured in the same run so machine noise cancels out:
//   - GET:  µs of the WAF per request vs µs of new URLSearchParams(query) + reading every header;
//   - POST: µs of the WAF (head + body) vs µs of JSON.parse of the same body.
//
//   npm run build && node dist/bench/waf-micro.js          (WAF_MICRO_MS=1500 per figure by default)
//
// With the OWASP CRS beside the repository (../shared/crs-4.28, or CRS_RULES_DIR), the GET and
// 2 KB JSON POST rows are timed through the CRS engine too (waf.crs, paranoia 1, issue 18).
import { performance } from 'node:perf_hooks';
import type { RequestCtx } from '../src/pipeline/context.js';
import { BufferedBody } from '../src/proxy/request-body.js';
import type { Stage } from '../src/contract/types.js';
import type { LoadSpec } from './load.js';
import { GET_QUERY, POST_JSON } from './waf-rows.js';
import { ctxFor as edgeCtx } from './crs-calls.js';
import { compileWafStage } from './waf-stage.js';
import { crsRulesDir } from './waf-eval-crs.js';

const ctxFor = (spec: LoadSpec): RequestCtx => edgeCtx(spec, 'micro');

const RUN_MS = Number(process.env['WAF_MICRO_MS'] ?? 1500);


/** µs per call of `fn`, after a warm-up, timed over RUN_MS in batches (one clock read per batch). */
async function time(fn: () => unknown): Promise<number> {
  const batch = 200;
  for (let i = 0; i < 2000; i++) await fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < RUN_MS) {
    for (let i = 0; i < batch; i++) await fn();
    calls += batch;
    now = performance.now();
  }
  return ((now - start) * 1000) / calls;
}

/** The stage on a request with a body: a fresh BufferedBody each time, as each request has its own. */
function withBody(stage: Stage, spec: LoadSpec): () => unknown {
  const ctx = ctxFor(spec);
  const bytes = Buffer.from(spec.body ?? '', 'utf8');
  return () => {
    ctx.body = new BufferedBody(bytes);
    ctx.wafRules = null;
    return stage.handle(ctx);
  };
}

/**
 * The bench row's body in VARIANTS versions whose names and prose differ, cycled through: more
 * distinct values than the engine's clean-value cache holds, so this row shows the cost of values
 * never seen before (the fixed-body rows profit from the cache as a real API's repeated values do).
 */
const VARIANTS = 10_000;
function uniqueBodies(stage: Stage): () => unknown {
  const ctx = ctxFor(POST_JSON);
  const base = JSON.parse(POST_JSON.body ?? '{}') as { customer: { name: string }; shipping: { line2: string }; notes: string };
  const notes = base.notes;
  const bodies = Array.from({ length: VARIANTS }, (_, i) => {
    base.customer.name = `Conor O'Dwyer ${i}`;
    base.shipping.line2 = `Dock's Building, floor ${i % 40}`;
    base.notes = `Order ${i}: ${notes}`;
    return Buffer.from(JSON.stringify(base));
  });
  let n = 0;
  return () => {
    ctx.body = new BufferedBody(bodies[n++ % VARIANTS]!);
    ctx.wafRules = null;
    return stage.handle(ctx);
  };
}

/** A ~2 KB support-ticket body: mostly prose values, the worst case for per-value rules. */
const PROSE_JSON: LoadSpec = {
  ...POST_JSON,
  body: JSON.stringify({
    ticket: { id: 'a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607', subject: "Can't update my shipping address (order #10442)", priority: 'high' },
    messages: [
      "Hi there, I've been trying to change the delivery address on my order since yesterday but the form keeps saying 'invalid postcode'. It's a valid Irish Eircode (D02 P820) - could you check?",
      "Also, the tracking page shows \"label created\" for three days now. Is that normal? I'd like it before the 14th if possible, it's a present.",
      'Update: tried again on my phone (Safari, iOS 17) and got the same error. Screenshot attached. Thanks for your help & patience!',
      "P.S. your FAQ says 'select the best option from the list', but there is no list on the page - just an empty drop-down :(",
    ],
    customer: { name: "Siobhán O'Neill", email: 'siobhan.oneill@example.ie', phone: '+353 87 555 0199', tier: 'gold' },
    meta: { userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)', locale: 'en-IE', tags: ['shipping', 'address', 'bug', 'mobile'] },
  }),
};

const SEARCH_GET: LoadSpec = {
  ...GET_QUERY,
  path: '/api/v1/search?q=%22red%20dress%22%20-(maxi%20OR%20midi)&category=women%27s&price_max=49.99&page=2&redirect=https%3A%2F%2Fshop.example.com%2Fcart',
};

const fmt = (n: number): string => n.toFixed(2).padStart(8);

async function main(): Promise<void> {
  const stage = compileWafStage(1);
  const getCtx = ctxFor(GET_QUERY);
  const searchCtx = ctxFor(SEARCH_GET);
  const rows: [string, number, string, number][] = [];

  const parseQuery = (spec: LoadSpec) => {
    const ctx = ctxFor(spec);
    return () => {
      let n = 0;
      new URLSearchParams(ctx.query).forEach((v) => (n += v.length));
      for (const k in ctx.headers) n += String(ctx.headers[k]).length;
      return n;
    };
  };
  rows.push(['GET with query (bench row)', await time(() => stage.handle(getCtx)), 'URLSearchParams+headers', await time(parseQuery(GET_QUERY))]);
  rows.push(['GET search with quotes, URL', await time(() => stage.handle(searchCtx)), 'URLSearchParams+headers', await time(parseQuery(SEARCH_GET))]);
  for (const [label, spec] of [['2 KB JSON POST (bench row)', POST_JSON], ['1 KB prose JSON POST', PROSE_JSON]] as const) {
    const text = spec.body ?? '';
    rows.push([`${label} ${text.length} B`, await time(withBody(stage, spec)), 'JSON.parse of the body', await time(() => JSON.parse(text))]);
  }
  const text = POST_JSON.body ?? '';
  rows.push([`2 KB JSON POST, ${VARIANTS} variants`, await time(uniqueBodies(stage)), 'JSON.parse of the body', await time(() => JSON.parse(text))]);
  const crsDir = crsRulesDir(process.cwd(), null);
  if (crsDir !== null) {
    const crs = compileWafStage(1, { rulesDir: crsDir });
    const crsGet = ctxFor(GET_QUERY);
    rows.push(['CRS: GET with query (bench row)', await time(() => crs.handle(crsGet)), 'URLSearchParams+headers', await time(parseQuery(GET_QUERY))]);
    rows.push([`CRS: 2 KB JSON POST ${text.length} B`, await time(withBody(crs, POST_JSON)), 'JSON.parse of the body', await time(() => JSON.parse(text))]);
    rows.push([`CRS: 2 KB JSON POST, ${VARIANTS} variants`, await time(uniqueBodies(crs)), 'JSON.parse of the body', await time(() => JSON.parse(text))]);
  }
  console.log(`WAF micro benchmark, paranoia 1, ${RUN_MS} ms per figure (µs per request)`);
  console.log('request                                  WAF µs   reference                      ref µs   WAF/ref');
  for (const [name, waf, refName, ref] of rows) {
    console.log(`${name.padEnd(38)} ${fmt(waf)}   ${refName.padEnd(26)} ${fmt(ref)}   ${(waf / ref).toFixed(2).padStart(6)}x`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
