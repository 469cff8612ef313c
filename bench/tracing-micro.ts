// Tracing's own CPU per request (issue 19 item 2, docs/tracing.md), in one process, in interleaved
// rounds, by CPU time (process.cpuUsage): a loaded machine depresses every variant alike, which the
// tracing rows of `npm run bench` cannot promise. Each "request" does what the gateway does for the
// full pipeline's request when tracing is on — the SERVER span, the Redis and upstream CLIENT
// spans, the upstream's traceparent header, the end attributes — and nothing else; with tracing
// off it is the one `enabled` test the gateway makes. Spans are exported for real, OTLP/HTTP JSON,
// to the bench's receiver (otlp-receiver.ts) in a child process on 127.0.0.1, and the export
// work (serialising, the HTTP request) is inside the measured CPU time.
//
//   npm run build && node dist/bench/tracing-micro.js      (MICRO_ROUNDS=7, MICRO_CALLS=20000)
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadTracing } from '../src/observe/tracing/load.js';
import { replaceTraceHeaders } from '../src/observe/tracing/traceparent.js';
import { NO_TRACING, type Tracing } from '../src/observe/tracing/tracing.js';
import { stopAll } from './children.js';
import { median } from './median.js';
import { startScript } from './start.js';

const ROUNDS = Number(process.env['MICRO_ROUNDS'] ?? 7);
/** Requests between two turns of the event loop, when the batch processor exports (3 spans each: within its queue). */
const CHUNK = 100;
const CHUNKS = Math.max(1, Math.round(Number(process.env['MICRO_CALLS'] ?? 20_000) / CHUNK));
const CALLS = CHUNKS * CHUNK;
const WARMUP_CHUNKS = Math.max(1, CHUNKS >> 2);
const OTLP_RECEIVER_JS = fileURLToPath(new URL('./otlp-receiver.js', import.meta.url));

/** The bench request's forwarded headers (flat, as undici takes them). */
const HEADERS = ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) portcullis-bench/1.0', 'accept', 'application/json', 'x-user-id', 'bench-user', 'x-request-id', '9f1c2a7e-51d4-4c1b-a1e5-0b6f2d9a3c11'];
const START = {
  method: 'GET', scheme: 'http', host: '127.0.0.1:8080', clientIp: '127.0.0.1', requestId: '9f1c2a7e-51d4-4c1b-a1e5-0b6f2d9a3c11',
  shape: 'edge', traceparent: undefined, tracestate: undefined,
} as const;
const END = { route: 'orders', path: '/api/v1/orders', status: 200, decision: 'allow', sub: null } as const;

function request(tracing: Tracing): void {
  if (!tracing.enabled) return;
  const span = tracing.startRequest(START);
  const redis = span.child('ratelimit redis', { 'db.system.name': 'redis', 'portcullis.ratelimit.policy': 'bench' });
  redis.end();
  const upstream = span.child('GET', {});
  const headers = HEADERS.slice();
  replaceTraceHeaders(headers, upstream.traceparent(), upstream.tracestate());
  upstream.set('portcullis.upstream.target', 'http://127.0.0.1:9999');
  upstream.set('http.response.status_code', 200);
  upstream.end();
  span.end(END);
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

/** CPU ns per request over `calls`, the export work the batch processor does meanwhile included. */
async function cpuNsPer(tracing: Tracing, chunks: number): Promise<number> {
  const start = process.cpuUsage();
  for (let c = 0; c < chunks; c++) {
    for (let i = 0; i < CHUNK; i++) request(tracing);
    await tick();
  }
  const d = process.cpuUsage(start);
  return ((d.user + d.system) * 1000) / (chunks * CHUNK);
}

async function main(): Promise<void> {
  const receiver = await startScript('otlp-receiver', [OTLP_RECEIVER_JS]);
  const logger = pino({ level: 'warn' });
  const options = (sampleRatio: number) => ({
    enabled: true, endpoint: `${receiver.url}/v1/traces`, serviceName: 'portcullis-micro', sampleRatio,
    includeSubject: false, headers: {}, exportTimeoutMs: 10_000, maxQueueSize: 2048,
  });
  const variants: [string, Tracing][] = [
    ['tracing off', NO_TRACING],
    ['sampleRatio 1', await loadTracing(options(1), null, logger)],
    ['sampleRatio 0.01', await loadTracing(options(0.01), null, logger)],
  ];
  try {
    for (const [, t] of variants) await cpuNsPer(t, WARMUP_CHUNKS); // warm up to optimised code
    const samples = new Map<string, number[]>(variants.map(([n]) => [n, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const [n, t] of variants) samples.get(n)!.push(await cpuNsPer(t, CHUNKS));
    }
    for (const [, t] of variants) await t.shutdown();
    const stats = await (await fetch(`${receiver.url}/stats`)).json() as { spans: number; posts: number };
    const made = 3 * CHUNK * (WARMUP_CHUNKS + ROUNDS * CHUNKS);
    for (const [n] of variants) {
      const v = samples.get(n)!;
      console.log(`${n}: ${(median(v) / 1000).toFixed(2)} µs CPU per request (median of ${ROUNDS} interleaved rounds of ${CALLS}; rounds ${v.map((x) => (x / 1000).toFixed(1)).join(' ')})`);
    }
    console.log(`receiver: ${stats.spans} spans in ${stats.posts} export requests; sampleRatio 1 made ${made}, 0.01 about ${Math.round(made / 100)}`);
  } finally {
    await stopAll();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
