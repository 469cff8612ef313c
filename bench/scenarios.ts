// The benchmark rows. Each scenario starts the process under test in front of the shared
// upstream and says what request to load it with; run.ts does the rest identically for all.
// To add a row (full auth pipeline, Redis, WAF on/off, forward-auth, HTTPS …), append a
// Scenario here — usually startPortcullis() with another config and LoadSpec headers.
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, freePort, waitForHttp, waitForListening } from './children.js';
import type { LoadSpec } from './load.js';
import { AuthFixture } from './auth-fixture.js';

const READY_TIMEOUT_MS = 10_000;

const BARE_PROXY_JS = fileURLToPath(new URL('./bare-proxy.js', import.meta.url));
// dist/bench/run.js → dist/src/main.js: both come out of the same `npm run build`.
const PORTCULLIS_MAIN_JS = fileURLToPath(new URL('../src/main.js', import.meta.url));

/** What every scenario gets from the runner. */
export interface BenchEnv {
  /** Origin of the shared upstream, e.g. http://127.0.0.1:40123 */
  upstreamUrl: string;
  /** Per-run temp directory for configs and logs. */
  workDir: string;
}

/** A started process under test. */
export interface Target {
  /** Base URL the load is sent to (127.0.0.1 only). */
  url: string;
  /** Process whose RSS is reported. */
  pid: number;
  stop(): Promise<void>;
}

export interface Scenario {
  name: string;
  /** The row every other row's ratio is computed against (exactly one). */
  baseline?: boolean;
  /** Throughput ratio vs the baseline this row is expected to keep (reported, not enforced). */
  minRatio?: number;
  load: LoadSpec;
  start(env: BenchEnv): Promise<Target>;
}

function toTarget(child: Child, port: number): Target {
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => child.stop() };
}

/** Spawns a bench/ script that prints "LISTENING <port>". */
async function startScript(name: string, args: string[]): Promise<Target> {
  const child = new Child({ name, args });
  try {
    const port = await waitForListening(child, READY_TIMEOUT_MS);
    return toTarget(child, port);
  } catch (err) {
    await child.stop();
    throw err;
  }
}

/** Starts the shared upstream (not a row itself). */
export async function startUpstream(): Promise<Target> {
  return startScript('upstream', [fileURLToPath(new URL('./upstream.js', import.meta.url))]);
}

/** A Portcullis config whose only route sends everything, unauthenticated, to the upstream. */
export function passthroughConfig(port: number, upstreamUrl: string): string {
  return [
    'server: { trustedProxies: [] }',
    'listeners:',
    `  http: { host: 127.0.0.1, port: ${port} }`,
    'routes:',
    '  - name: bench',
    '    match: { path: / }',
    '    auth: none',
    `    upstream: ${upstreamUrl}`,
    '',
  ].join('\n');
}

/**
 * Runs `node dist/src/main.js serve --config <file>` with the YAML from makeConfig(port).
 * Its access log (one JSON line per request on stdout) goes to a file in the work dir, as it
 * would to a log collector, rather than to a pipe this process would have to drain.
 */
export async function startPortcullis(env: BenchEnv, slug: string, makeConfig: (port: number) => string): Promise<Target> {
  if (!existsSync(PORTCULLIS_MAIN_JS)) throw new Error(`${PORTCULLIS_MAIN_JS} not found (build src/ first)`);
  const port = await freePort();
  const configPath = join(env.workDir, `${slug}.yaml`);
  await writeFile(configPath, makeConfig(port));
  const log = await open(join(env.workDir, `${slug}.access.log`), 'w');
  let child: Child;
  try {
    child = new Child({ name: 'portcullis', args: [PORTCULLIS_MAIN_JS, 'serve', '--config', configPath], stdoutFd: log.fd });
  } finally {
    await log.close(); // the child holds its own copy of the descriptor
  }
  try {
    await waitForHttp(child, `http://127.0.0.1:${port}/`, READY_TIMEOUT_MS);
    return toTarget(child, port);
  } catch (err) {
    await child.stop();
    throw err;
  }
}

/** Redis for the token-bucket row: BENCH_REDIS_URL, else the machine's own (.ci/run starts one). */
const BENCH_REDIS_URL = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/**
 * The passthrough route with a token bucket keyed by ip whose capacity and refill are far above
 * what the bench sends, so every request is decided (one EVALSHA with Redis) and none is limited.
 */
export function tokenBucketConfig(port: number, upstreamUrl: string, redisUrl: string | null): string {
  return passthroughConfig(port, upstreamUrl).replace('routes:\n', [
    ...(redisUrl === null ? [] : ['redis:', `  url: ${redisUrl}`, '  keyPrefix: "portcullis-bench:"']),
    'rateLimits:',
    '  policies:',
    '    bench: { key: ip, capacity: 1000000000, refillPerSecond: 1000000000 }',
    'routes:',
    '',
  ].join('\n')) + '    rateLimit: bench\n';
}

/** Refuses to start the Redis row without a Redis: it would silently measure in-process buckets. */
async function requireRedis(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  const pong = await new Promise<boolean>((resolve) => {
    const socket = connect(Number(port || 6379), hostname);
    const done = (ok: boolean): void => { clearTimeout(timer); socket.destroy(); resolve(ok); };
    const timer = setTimeout(() => done(false), 1_000);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (c: Buffer) => done(c.toString().startsWith('+PONG')));
    socket.on('error', () => done(false));
  });
  if (!pong) throw new Error(`no Redis answers at ${url} (set BENCH_REDIS_URL)`);
}

export const scenarios: readonly Scenario[] = [
  {
    name: 'baseline (bare undici proxy)',
    baseline: true,
    load: { method: 'GET', path: '/' },
    start: (env) => startScript('bare-proxy', [BARE_PROXY_JS, env.upstreamUrl]),
  },
  {
    name: 'portcullis passthrough',
    minRatio: 0.9,
    load: { method: 'GET', path: '/' },
    start: (env) => startPortcullis(env, 'passthrough', (port) => passthroughConfig(port, env.upstreamUrl)),
  },
  {
    name: 'portcullis + in-process token bucket',
    load: { method: 'GET', path: '/' },
    start: (env) => startPortcullis(env, 'bucket-local', (port) => tokenBucketConfig(port, env.upstreamUrl, null)),
  },
  {
    name: 'portcullis + Redis token bucket',
    load: { method: 'GET', path: '/' },
    start: async (env) => {
      await requireRedis(BENCH_REDIS_URL);
      return startPortcullis(env, 'bucket-redis', (port) => tokenBucketConfig(port, env.upstreamUrl, BENCH_REDIS_URL));
    },
  },
  ...authScenarios(),
];

/** Full auth (issue 3): RS256 verification, scope check, identity header; with and without the token cache. */
function authScenarios(): Scenario[] {
  const fixture = new AuthFixture();
  const row = (name: string, slug: string, entries: number): Scenario => ({
    name,
    load: fixture.load,
    start: async (env) => {
      await fixture.prepare(env.workDir);
      return startPortcullis(env, slug, (port) => fixture.config(port, env.upstreamUrl, entries));
    },
  });
  return [row('full auth (RS256, token cache)', 'auth-cache', 10_000), row('full auth (RS256, no cache)', 'auth-nocache', 0)];
}
