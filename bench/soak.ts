// `npm run soak` (issue 8 §5): the full gateway under a steady mix of allowed, denied and
// rate-limited traffic from rotating clients for SOAK_MINUTES (default 10), printing its memory
// as it goes and flagging growth after the warm-up. Not part of `npm test`: it takes minutes.
//
//   npm run soak                          10 minutes at 1500 req/s
//   SOAK_MINUTES=3 SOAK_RPS=800 npm run soak
//
// Knobs: SOAK_MINUTES (default 10), SOAK_RPS (offered load, default 1500), SOAK_SAMPLE_SEC (memory
// sampling period, default 10), SOAK_CONNECTIONS (default 32), BENCH_REDIS_URL (as for the bench).
// Exit code: 0 when memory was flat after the warm-up and no request failed at the socket level,
// 1 otherwise, 130 on Ctrl-C.
//
// The mix, per 100 requests (every client address comes through X-Forwarded-For from a trusted
// 127.0.0.1, so the gateway sees tens of thousands of distinct clients):
//   74  allowed: one of 2,000 tokens (distinct subs), from one of 50,000 rotating addresses
//    6  rate limited: one hot address far above its bucket's refill (429 after its burst)
//    5  no token (401)            3  a malformed token (401, counted by the brute-force brake)
//    4  a token without the route's scope (403)
//    4  an SQL injection in the query (403 from the WAF; 200 if this build has no WAF yet)
//    2  an unknown path (404)     2  the public route, no token (200)
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Child, freePort, killAllNow, stopAll, waitForHttp, waitForListening } from './children.js';
import { AuthFixture } from './auth-fixture.js';
import { readRssBytesOf } from './proc.js';
import { benchRedisUrl } from './redis.js';

const PORTCULLIS_MAIN_JS = fileURLToPath(new URL('../src/main.js', import.meta.url));
const UPSTREAM_JS = fileURLToPath(new URL('./upstream.js', import.meta.url));
const TOKENS = 2_000;
const ADDRESSES = 50_000;
const HOT_ADDRESS = '192.0.2.1';
/** Warm-up excluded from the growth check: the larger of one minute and a fifth of the run. */
const MIN_WARMUP_SEC = 60;
/** Growth flagged when the late RSS exceeds the early one by more than this fraction… */
const MAX_GROWTH_FRACTION = 0.1;
/** …and by more than this many bytes (GC timing alone moves RSS by a few MB). */
const MAX_GROWTH_BYTES = 16 * 1024 * 1024;

function positiveNumberEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

function config(port: number, adminPort: number, upstreamUrl: string, redisUrl: string, fixture: AuthFixture, waf: boolean): string {
  return [
    'server: { trustedProxies: [127.0.0.1/32] }',
    'listeners:',
    `  http: { host: 127.0.0.1, port: ${port} }`,
    `  admin: { host: 127.0.0.1, port: ${adminPort} }`,
    'redis:',
    `  url: ${redisUrl}`,
    '  keyPrefix: "portcullis-soak:"',
    ...fixture.authYaml(10_000),
    'rateLimits:',
    '  policies:',
    '    per-ip: { key: ip, capacity: 20, refillPerSecond: 10 }',
    ...(waf ? ['waf:', '  mode: block'] : []),
    'routes:',
    '  - name: public',
    '    match: { path: /public }',
    '    auth: none',
    `    upstream: ${upstreamUrl}`,
    '  - name: orders',
    '    match: { path: /api/v1/orders }',
    '    auth: { scopes: ["bench:read"] }',
    '    identityHeaders: { X-User-Id: sub }',
    '    rateLimit: per-ip',
    `    upstream: ${upstreamUrl}`,
    '',
  ].join('\n');
}

function checkConfig(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PORTCULLIS_MAIN_JS, 'check', '--config', file], { timeout: 10_000 }, (err) => resolve(err === null));
  });
}

interface Sample {
  atSec: number;
  rssBytes: number | null;
  heapUsedBytes: number | null;
  responses: number;
}

/** One value of a metric from the admin listener's Prometheus text, or null. */
async function scrape(adminUrl: string, metric: string): Promise<number | null> {
  try {
    const res = await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(2_000) });
    const text = await res.text();
    const m = new RegExp(`^${metric} (\\S+)$`, 'm').exec(text);
    return m?.[1] !== undefined ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Request n of the mix: path and headers, as autocannon's setupRequest sets them. */
function mixFor(n: number, good: readonly string[], noScope: readonly string[]): { path: string; headers: Record<string, string> } {
  const slot = n % 100;
  const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  const client = `10.${((n % ADDRESSES) >> 16) & 255}.${((n % ADDRESSES) >> 8) & 255}.${(n % ADDRESSES) & 255}`;
  const base = { 'user-agent': 'portcullis-soak/1.0', accept: 'application/json' };
  const bearer = (t: string): string => `Bearer ${t}`;
  if (slot < 74) return { path: '/api/v1/orders?limit=10', headers: { ...base, 'x-forwarded-for': client, authorization: bearer(good[n % good.length]!) } };
  if (slot < 80) return { path: '/api/v1/orders?limit=10', headers: { ...base, 'x-forwarded-for': HOT_ADDRESS, authorization: bearer(good[0]!) } };
  if (slot < 85) return { path: '/api/v1/orders', headers: { ...base, 'x-forwarded-for': ip } };
  if (slot < 88) return { path: '/api/v1/orders', headers: { ...base, 'x-forwarded-for': ip, authorization: 'Bearer not.a.jwt' } };
  if (slot < 92) return { path: '/api/v1/orders', headers: { ...base, 'x-forwarded-for': client, authorization: bearer(noScope[n % noScope.length]!) } };
  if (slot < 96) {
    return { path: "/api/v1/orders?id=1'%20OR%20'1'%3D'1'%20--", headers: { ...base, 'x-forwarded-for': client, authorization: bearer(good[n % good.length]!) } };
  }
  if (slot < 98) return { path: `/nothing/here/${n % 1000}`, headers: { ...base, 'x-forwarded-for': client } };
  return { path: `/public/page/${n % 1000}`, headers: { ...base, 'x-forwarded-for': client } };
}

async function main(): Promise<number> {
  const minutes = positiveNumberEnv('SOAK_MINUTES', 10);
  const rps = Math.round(positiveNumberEnv('SOAK_RPS', 1500));
  const sampleSec = positiveNumberEnv('SOAK_SAMPLE_SEC', 10);
  const connections = Math.round(positiveNumberEnv('SOAK_CONNECTIONS', 32));
  const durationSec = Math.round(minutes * 60);
  const warmupSec = Math.max(MIN_WARMUP_SEC, durationSec / 5);
  if (durationSec <= warmupSec + 2 * sampleSec) {
    console.log(`note: ${durationSec} s leaves little after the ${warmupSec} s warm-up; the growth check needs a longer run`);
  }

  const workDir = await mkdtemp(join(os.tmpdir(), 'portcullis-soak-'));
  let stopping = false;
  let instance: autocannon.Instance | null = null;
  const onSignal = (): void => {
    if (stopping) { killAllNow(); process.exit(130); }
    stopping = true;
    instance?.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killAllNow);
  try {
    const fixture = new AuthFixture();
    await fixture.prepare(workDir);
    const good = fixture.many(TOKENS);
    const noScope = Array.from({ length: 50 }, (_, i) => fixture.mint(`soak-noscope-${i}`, 'other:read'));
    const redisUrl = await benchRedisUrl();

    const upChild = new Child({ name: 'upstream', args: [UPSTREAM_JS] });
    const upstreamUrl = `http://127.0.0.1:${await waitForListening(upChild, 10_000)}`;
    const port = await freePort();
    const adminPort = await freePort();
    const file = join(workDir, 'soak.yaml');
    await writeFile(file, config(port, adminPort, upstreamUrl, redisUrl, fixture, true));
    const waf = await checkConfig(file);
    if (!waf) await writeFile(file, config(port, adminPort, upstreamUrl, redisUrl, fixture, false));
    const log = await open(join(workDir, 'access.log'), 'w');
    const gateway = new Child({ name: 'portcullis', args: [PORTCULLIS_MAIN_JS, 'serve', '--config', file], stdoutFd: log.fd });
    await log.close();
    await waitForHttp(gateway, `http://127.0.0.1:${port}/public/ready`, 15_000);
    const adminUrl = `http://127.0.0.1:${adminPort}`;

    console.log(`portcullis soak — ${minutes} min at ${rps} req/s offered, ${connections} connections, ` +
      `memory every ${sampleSec} s, growth checked after ${warmupSec} s; Redis ${redisUrl}${waf ? '' : '; NO WAF in this build (issue 5)'}`);
    console.log('  time  |  RSS MB | heap MB | responses | req/s');

    const statuses = new Map<number, number>();
    let responses = 0;
    let errors = 0;
    let n = 0;
    instance = autocannon({
      url: `http://127.0.0.1:${port}/`,
      connections,
      pipelining: 1,
      duration: durationSec,
      overallRate: rps,
      requests: [{
        setupRequest: (req) => {
          const m = mixFor(n++, good, noScope);
          req.path = m.path;
          req.headers = m.headers;
          return req;
        },
      }],
    });
    instance.on('response', (_c: unknown, status: number) => {
      responses++;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    });
    instance.on('reqError', () => { errors++; });

    const samples: Sample[] = [];
    const started = Date.now();
    let lastResponses = 0;
    let lastAtSec = 0;
    const sample = async (): Promise<void> => {
      const atSec = (Date.now() - started) / 1000;
      const [rssBytes, heapUsedBytes] = await Promise.all([readRssBytesOf([gateway.pid]), scrape(adminUrl, 'nodejs_heap_size_used_bytes')]);
      // the closing sample can come right after the last periodic one: no rate over a sliver
      const rate = atSec - lastAtSec >= 1 ? (responses - lastResponses) / (atSec - lastAtSec) : null;
      lastResponses = responses;
      lastAtSec = atSec;
      samples.push({ atSec, rssBytes, heapUsedBytes, responses });
      const mb = (b: number | null): string => (b === null ? 'n/a' : (b / 1024 / 1024).toFixed(1));
      const mmss = `${String(Math.floor(atSec / 60)).padStart(3)}:${String(Math.floor(atSec % 60)).padStart(2, '0')}`;
      console.log(`${mmss} | ${mb(rssBytes).padStart(7)} | ${mb(heapUsedBytes).padStart(7)} | ${String(responses).padStart(9)} | ${(rate === null ? '' : rate.toFixed(0)).padStart(5)}`);
    };
    const timer = setInterval(() => { void sample(); }, sampleSec * 1000);
    try {
      await instance;
    } finally {
      clearInterval(timer);
    }
    await sample();
    if (stopping) return 130;

    // ---- verdict ---------------------------------------------------------------------------
    const classes = new Map<string, number>();
    for (const [status, count] of [...statuses].sort((a, b) => a[0] - b[0])) classes.set(String(status), count);
    console.log(`\nresponses: ${responses}; by status: ${[...classes].map(([s, c]) => `${s}×${c}`).join(', ')}; socket errors: ${errors}`);

    const after = samples.filter((s) => s.atSec >= warmupSec && s.rssBytes !== null);
    let grew = false;
    if (after.length < 3) {
      console.log(`memory: too few samples after the ${warmupSec} s warm-up to judge growth (${after.length}); run longer`);
    } else {
      const third = Math.max(1, Math.floor(after.length / 3));
      const early = Math.max(...after.slice(0, third).map((s) => s.rssBytes!));
      const late = Math.max(...after.slice(-third).map((s) => s.rssBytes!));
      // least-squares slope of RSS over time after the warm-up, in MB per minute
      const xs = after.map((s) => s.atSec / 60);
      const ys = after.map((s) => s.rssBytes! / 1024 / 1024);
      const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
      const my = ys.reduce((a, b) => a + b, 0) / ys.length;
      const slope = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
      grew = late - early > Math.max(early * MAX_GROWTH_FRACTION, MAX_GROWTH_BYTES);
      console.log(`memory after warm-up: peak RSS ${(early / 1048576).toFixed(1)} MB in the first third, ${(late / 1048576).toFixed(1)} MB in the last; ` +
        `trend ${slope >= 0 ? '+' : ''}${slope.toFixed(2)} MB/min — ${grew ? 'GROWTH: investigate (heap snapshot, --trace-gc)' : 'flat'}`);
    }
    console.log(`gateway log: ${join(workDir, 'access.log')}${process.env['BENCH_KEEP_TMP'] === '1' ? '' : ' (removed; BENCH_KEEP_TMP=1 keeps it)'}`);
    return grew || errors > 0 ? 1 : 0;
  } finally {
    await stopAll();
    if (process.env['BENCH_KEEP_TMP'] !== '1') await rm(workDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    killAllNow();
    process.exit(1);
  },
);
