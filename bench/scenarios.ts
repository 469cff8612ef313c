// The benchmark rows. Each scenario starts the process under test in front of the shared
// upstream and says what request to load it with; run.ts does the rest identically for all.
// To add a row (full auth pipeline, Redis, WAF on/off, forward-auth, HTTPS …), append a
// Scenario here — usually startPortcullis() with another config and LoadSpec headers.
import { existsSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, freePort, waitForHttp, waitForListening } from './children.js';
import type { LoadSpec } from './load.js';
import { passthroughConfig } from './passthrough-config.js';
import { authFixture, pipelineScenarios } from './pipeline-rows.js';
import { tlsScenarios } from './tls-rows.js';
import { wafScenarios } from './waf-rows.js';
import { forwardAuthScenarios } from './forward-auth-rows.js';

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
  /** Process whose RSS and CPU time are reported, together with its descendants (cluster workers). */
  pid: number;
  stop(): Promise<void>;
  /** Caveats printed under the table, e.g. a part of the row this build does not have yet. */
  notes?: string[];
}

export interface Scenario {
  name: string;
  /** The row every other row's ratio is computed against (exactly one). */
  baseline?: boolean;
  /** Throughput ratio vs the baseline this row is expected to keep (reported, not enforced). */
  minRatio?: number;
  /** p99 this row may add to the baseline's, in ms (reported, not enforced). */
  maxP99OverBaselineMs?: number;
  /** Throughput this row should keep relative to another row (the fastify reference). */
  minRatioOver?: { row: string; min: number };
  /** Ceiling on RSS, in MiB (reported, not enforced). */
  maxRssMB?: number;
  /** Warm-up of this row in seconds, when the default is too short (a cache to fill first). */
  warmupSec?: number;
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
    // BENCH_CPU_PROF=<dir>: V8 CPU profiles of each gateway process (bench/profile-summary.ts reads them)
    const prof = process.env['BENCH_CPU_PROF'];
    const nodeFlags = prof ? ['--cpu-prof', `--cpu-prof-dir=${join(prof, slug)}`] : [];
    // BENCH_NODE_FLAGS='--max-semi-space-size=8 …': node/V8 flags for every gateway process (experiments)
    nodeFlags.push(...(process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== ''));
    child = new Child({ name: 'portcullis', args: [...nodeFlags, PORTCULLIS_MAIN_JS, 'serve', '--config', configPath], stdoutFd: log.fd });
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

export const scenarios: readonly Scenario[] = [
  {
    name: 'baseline (bare undici proxy)',
    baseline: true,
    load: authFixture.load,
    start: async (env) => {
      // the token in the shared request is minted here, before the first row is loaded
      await authFixture.prepare(env.workDir);
      return startScript('bare-proxy', [BARE_PROXY_JS, env.upstreamUrl]);
    },
  },
  {
    name: 'portcullis passthrough',
    minRatio: 0.95,
    load: authFixture.load,
    start: (env) => startPortcullis(env, 'passthrough', (port) => passthroughConfig(port, env.upstreamUrl)),
  },
  // The full pipeline (issue 8): JWT with and without the token cache, Redis bucket, WAF, access
  // log; 10k rotating clients; server.workers; the fastify reference. See pipeline-rows.ts.
  ...pipelineScenarios(startPortcullis),
  // WAF off/on for a GET with a query and a 2 KB JSON POST (issue 5). See waf-rows.ts.
  ...wafScenarios(startPortcullis),
  // TLS termination (issue 7): HTTPS keep-alive vs plain, and new handshakes per second. See tls-rows.ts.
  ...tlsScenarios(startPortcullis, authFixture.load),
  // Forward-auth decisions per second (issue 6): /nginx asked directly, and a real NGINX's auth_request. See forward-auth-rows.ts.
  ...forwardAuthScenarios(startPortcullis),
];
