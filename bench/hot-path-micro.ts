// Hot-path micro benchmark (issue 17): each change to the per-request code timed before and after
// in one process, in interleaved rounds, by CPU time (process.cpuUsage), so a loaded machine
// depresses both sides alike. Prints the median over rounds of ns of CPU per call and the ratio.
//
//   npm run build && node dist/bench/hot-path-micro.js        (MICRO_ROUNDS=7, MICRO_CALLS=200000)
//
// - access line: `logger.info(accessLine(x))` (pino walks the object) vs the direct serialiser of
//   observe/access-json.ts, both into a destination that drops the line (serialisation only).
// - request metrics: prom-client children kept per label set (their inc/observe still hash the
//   labels) vs RequestMetrics.record, which bumps the series records in place (series-entry.ts).
// - token-cache key: SHA-256 of a 610-character RS256 token on every request vs TokenCache.keyOf,
//   which hashes only a token other than the previous one (each call gets a distinct string).
import pino from 'pino';
import { accessLine, type AccessSource } from '../src/observe/access-log.js';
import { accessLineWriter } from '../src/observe/access-json.js';
import { isoTime } from '../src/observe/logger.js';
import { GatewayMetrics } from '../src/observe/metrics.js';
import { RequestMetrics } from '../src/observe/request-metrics.js';
import { TokenCache, tokenKey } from '../src/auth/token-cache.js';
import { median } from './median.js';

const ROUNDS = Number(process.env['MICRO_ROUNDS'] ?? 7);
const CALLS = Number(process.env['MICRO_CALLS'] ?? 200_000);

export interface MicroPair {
  name: string;
  before: () => void;
  after: () => void;
}

function cpuNsPer(fn: () => void, calls: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) fn();
  const d = process.cpuUsage(start);
  return ((d.user + d.system) * 1000) / calls;
}

function accessPair(): MicroPair {
  // the bench's request, as the full pipeline logs it
  const x: AccessSource = {
    ctx: {
      id: '9f1c2a7e-51d4-4c1b-a1e5-0b6f2d9a3c11', clientIp: '127.0.0.1', method: 'GET', host: '127.0.0.1:8080', path: '/api/v1/orders',
      headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36' },
      upstreamMs: 0.812345, identity: { sub: 'bench-user' }, wafRules: null, wafScore: null,
    },
    route: { name: 'orders' }, decision: 'allow', bytesIn: 0, bytesOut: 97, tlsProtocol: null, req: { httpVersion: '1.1' },
  };
  // the process logger's options (observe/logger.ts), into a sink
  const logger = pino({
    base: null, timestamp: isoTime, formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['headers.authorization', 'headers.cookie', 'token', 'secret'], censor: '[redacted]' },
  }, { write: () => {} });
  const direct = accessLineWriter(logger);
  return {
    name: 'access line (pino object → direct)',
    before: () => logger.info(accessLine(x, 200, 1.234567)),
    after: () => direct(x, 200, 1.234567),
  };
}

export function runPairs(pairs: MicroPair[]): void {
  for (const p of pairs) {
    // warm both up to optimised code before the first round
    cpuNsPer(p.before, CALLS / 4);
    cpuNsPer(p.after, CALLS / 4);
    const before: number[] = [];
    const after: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      before.push(cpuNsPer(p.before, CALLS));
      after.push(cpuNsPer(p.after, CALLS));
    }
    const b = median(before);
    const a = median(after);
    console.log(`${p.name}: ${b.toFixed(0)} → ${a.toFixed(0)} ns CPU per call (×${(a / b).toFixed(2)}; ${ROUNDS} interleaved rounds of ${CALLS})`);
  }
}

function metricsPair(): MicroPair {
  const m = new GatewayMetrics({ defaultMetrics: false });
  // the children the previous RequestMetrics kept: one Map lookup, then prom-client's own inc/observe
  const children = new Map([['orders\nGET\n200\nallow', {
    requests: m.requestsTotal.labels('orders', 'GET', '200', 'allow'),
    duration: m.requestDuration.labels('orders', 'allow'),
    upstream: m.upstreamDuration.labels('orders'),
  }]]);
  const rm = new RequestMetrics(m);
  return {
    name: 'request metrics (prom-client children → series records)',
    before: () => {
      const c = children.get('orders' + '\n' + 'GET' + '\n' + 200 + '\n' + 'allow')!;
      c.requests.inc();
      c.duration.observe(0.001234);
      c.upstream.observe(0.000812);
    },
    after: () => rm.record('orders', 'GET', 200, 'allow', 0.001234, 0.000812),
  };
}

function tokenKeyPair(): MicroPair {
  const claims = { iss: 'https://issuer.example', aud: 'api', sub: 'bench-user', scope: 'bench:read', exp: 9999999999, iat: 1, jti: 'x'.repeat(40) };
  const token = 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImJlbmNoIn0.' + Buffer.from(JSON.stringify(claims)).toString('base64url') + '.' + 'S'.repeat(342);
  // as from a request header: the same text in a new string every time
  const tokens = Array.from({ length: 64 }, () => (' ' + token).slice(1));
  const cache = new TokenCache(10, 60);
  let i = 0;
  return {
    name: 'token-cache key (SHA-256 every time → last-token memo)',
    before: () => { tokenKey(tokens[i++ & 63]!); },
    after: () => { cache.keyOf(tokens[i++ & 63]!); },
  };
}

runPairs([accessPair(), metricsPair(), tokenKeyPair()]);
