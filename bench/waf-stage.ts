// The compiled WAF stage and request contexts as the gateway builds them, shared by the WAF eval
// (bench/waf-eval.ts) and the micro benchmark (bench/waf-micro.ts).
import type { IncomingHttpHeaders } from 'node:http';
import pino from 'pino';
import { validateConfig } from '../src/config/validate.js';
import { GatewayMetrics } from '../src/observe/metrics.js';
import type { Stage } from '../src/contract/types.js';
import { importCrsEngine, WafPolicy } from '../src/waf/compile.js';

// Imported once here so compileWafStage stays synchronous for its callers (the gateway imports it per config).
const CRS_ENGINE = await importCrsEngine();

/**
 * One route, WAF in block mode at `paranoia`, compiled through the real config path; with `crs`,
 * the OWASP CRS engine (waf.crs) instead of the built-in rules.
 */
export function compileWafStage(paranoia: number, crs?: Record<string, unknown>): Stage {
  const cfg = validateConfig({
    listeners: { http: { host: '127.0.0.1', port: 0 } },
    waf: { mode: 'block', paranoia, ...(crs === undefined ? {} : { crs }) },
    routes: [{ name: 'eval', match: {}, auth: 'none', upstream: 'http://127.0.0.1:9' }],
  });
  const deps = { logger: pino({ level: 'silent' }), metrics: new GatewayMetrics({ defaultMetrics: false }) };
  const stage = new WafPolicy(cfg, deps, CRS_ENGINE).stageFor(cfg.routes[0]!);
  if (stage === null) throw new Error('no WAF stage compiled');
  return stage;
}

/** Headers whose repeats node:http discards, keeping the first (lib/_http_incoming.js). */
const FIRST_COPY_ONLY = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer',
  'retry-after', 'server', 'user-agent',
]);

/** node:http's folding of repeated headers: first copy only for some, Cookie joined with '; ', the rest with ', '. */
export function toHeaders(pairs: readonly (readonly [string, string])[]): IncomingHttpHeaders {
  const out: Record<string, string> = {};
  for (const [name, value] of pairs) {
    const n = name.toLowerCase();
    const had = out[n];
    if (had !== undefined && FIRST_COPY_ONLY.has(n)) continue;
    out[n] = had === undefined ? value : had + (n === 'cookie' ? '; ' : ', ') + value;
  }
  return out;
}

/** A string as the UTF-8 bytes a client sends for it, read back one char per byte (node:http reads headers as latin1). */
export function asLatin1(s: string): string {
  return /[^ -~\t]/.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
}
