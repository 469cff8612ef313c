// Starting the processes under test: a bench/ script that prints "LISTENING <port>", the shared
// upstream, and Portcullis itself with a config a row writes. Shared by every row file.
import { existsSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, freePort, waitForHttp, waitForListening } from './children.js';
import type { BenchEnv, Target } from './row.js';

// BENCH_READY_SEC: a loaded machine (other builds on the same cores) can take longer than 10 s to
// start a gateway; the run's watchdog still bounds the whole.
const READY_TIMEOUT_MS = Math.max(1, Number(process.env['BENCH_READY_SEC'] ?? 10) || 10) * 1000;

// dist/bench/run.js → dist/src/main.js: both come out of the same `npm run build`.
const PORTCULLIS_MAIN_JS = fileURLToPath(new URL('../src/main.js', import.meta.url));

function toTarget(child: Child, port: number): Target {
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => child.stop() };
}

/** Spawns a bench/ script that prints "LISTENING <port>" once ready. */
export async function startScript(name: string, args: string[], readyTimeoutMs = READY_TIMEOUT_MS): Promise<Target> {
  const child = new Child({ name, args });
  try {
    const port = await waitForListening(child, readyTimeoutMs);
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
export async function startPortcullis(env: BenchEnv, slug: string, makeConfig: (port: number) => string, readyTimeoutMs = READY_TIMEOUT_MS): Promise<Target> {
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
    await waitForHttp(child, `http://127.0.0.1:${port}/`, readyTimeoutMs);
    return toTarget(child, port);
  } catch (err) {
    await child.stop();
    throw err;
  }
}
