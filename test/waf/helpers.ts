/** Shared helpers for the WAF tests: run values and requests through a real RuleSet / stage. */
import type { IncomingHttpHeaders } from 'node:http';
import { RuleSet, Scan } from '../../src/waf/engine.js';
import { S_QUERY } from '../../src/waf/exclusions.js';
import { T_URLENC, T_VALUE } from '../../src/waf/rule.js';
import { RequestCtx } from '../../src/pipeline/context.js';
import { BufferedBody } from '../../src/proxy/request-body.js';

const sets = new Map<number, RuleSet>();
function ruleSet(paranoia: number): RuleSet {
  let s = sets.get(paranoia);
  if (s === undefined) sets.set(paranoia, (s = new RuleSet(paranoia)));
  return s;
}

/** Rule ids matched by one value, as a query argument value unless `bits` says otherwise. */
export function ids(value: string, bits = T_VALUE | T_URLENC, paranoia = 1): number[] {
  const scan = new Scan();
  ruleSet(paranoia).inspect(scan, bits, value, S_QUERY, 'q');
  return scan.ids ?? [];
}

/** The anomaly score of one value. */
export function score(value: string, bits = T_VALUE | T_URLENC, paranoia = 1): number {
  const scan = new Scan();
  ruleSet(paranoia).inspect(scan, bits, value, S_QUERY, 'q');
  return scan.score;
}

export interface CtxOptions {
  method?: string;
  path?: string;
  query?: string;
  headers?: IncomingHttpHeaders;
  body?: string | Buffer;
  shape?: 'edge' | 'forward-auth';
}

export function makeCtx(o: CtxOptions = {}): RequestCtx {
  const ctx = new RequestCtx('req-waf', '192.0.2.9', o.shape ?? 'edge', o.method ?? 'GET', 'api.example.com',
    o.path ?? '/x', o.query ?? '', 'http', o.headers ?? {}, 0n);
  if (o.body !== undefined) ctx.body = new BufferedBody(Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body));
  return ctx;
}
