/**
 * Running CRS-engine rule sets on requests without sockets: a rule directory of the test's own
 * SecLang (test/helpers/crs.ts ruleDir) loaded by the real loader, and a request context built
 * as the edge builds it.
 */
import { loadCrs, type LoadedCrs } from '../../../src/waf/crs/loader.js';
import { loadBody, loadHead } from '../../../src/waf/crs/request.js';
import { Transaction } from '../../../src/waf/crs/transaction.js';
import { RequestCtx } from '../../../src/pipeline/context.js';
import { ruleDir } from '../../helpers/crs.js';

export function load(rules: string, extra: Record<string, string> = {}, opts: { paranoia?: number; exclusions?: string[]; prefilter?: boolean; fold?: boolean } = {}): LoadedCrs {
  const dir = ruleDir({ 'rules.conf': rules, ...extra });
  return loadCrs({ rulesDir: dir, paranoia: opts.paranoia ?? 1, anomalyThreshold: 5, exclusions: opts.exclusions, prefilter: opts.prefilter ?? true, fold: opts.fold ?? true });
}

export interface Req {
  method?: string;
  path?: string;
  query?: string;
  headers?: [string, string][];
  body?: string;
}

export function ctxOf(req: Req): RequestCtx {
  const pairs = req.headers ?? [['Host', 'example.test'], ['User-Agent', 'test']];
  const headers: Record<string, string> = {};
  for (const [n, v] of pairs) headers[n.toLowerCase()] = v;
  const ctx = new RequestCtx('req-1', '192.0.2.1', 'edge', req.method ?? 'GET', 'example.test', req.path ?? '/', req.query ?? '', 'http', headers, 0n);
  ctx.rawHeaders = pairs.flat();
  return ctx;
}

/** Runs phases 1 and 2 (block mode) and returns the transaction. */
export function run(crs: LoadedCrs, req: Req, blocking = true): Transaction {
  const t = new Transaction();
  t.trace = [];
  for (const [k, v] of crs.initialTx) t.tx.set(k, v);
  const ctx = ctxOf(req);
  loadHead(t, ctx, 'HTTP/1.1');
  crs.evaluator.run(t, 1, blocking);
  if (blocking && t.interrupted) return t;
  if (req.body !== undefined) loadBody(t, ctx.headers['content-type'], Buffer.from(req.body, 'latin1'));
  crs.evaluator.run(t, 2, blocking);
  return t;
}
