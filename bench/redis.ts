// Redis for the rows that need one (issue 8 §1: "works on a fresh machine"): BENCH_REDIS_URL when
// set; else the machine's own on 127.0.0.1:6379 when it answers; else a redis-server started for
// the run on a free port (no persistence), stopped with the other children.
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { Child, freePort } from './children.js';

const DEFAULT_URL = 'redis://127.0.0.1:6379';
const READY_TIMEOUT_MS = 10_000;

/** Whether a Redis at `url` answers PING within a second. */
export async function pingRedis(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise<boolean>((resolve) => {
    const socket = connect(Number(port || 6379), hostname);
    const done = (ok: boolean): void => { clearTimeout(timer); socket.destroy(); resolve(ok); };
    const timer = setTimeout(() => done(false), 1_000);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (c: Buffer) => done(c.toString().startsWith('+PONG')));
    socket.on('error', () => done(false));
  });
}

function findRedisServer(): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir !== '' && existsSync(`${dir}/redis-server`)) return `${dir}/redis-server`;
  }
  return null;
}

async function startRedisServer(): Promise<string> {
  const bin = findRedisServer();
  if (bin === null) throw new Error(`no Redis answers at ${DEFAULT_URL} and redis-server is not on PATH (install it, or set BENCH_REDIS_URL)`);
  const port = await freePort();
  const child = new Child({
    name: 'redis-server', command: bin,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  });
  child.proc.stdout?.resume(); // its log is not read; never let it fill the pipe
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!child.running) throw new Error(child.describeExit());
    if (await pingRedis(url)) return url;
    await new Promise((r) => setTimeout(r, 100));
  }
  await child.stop();
  throw new Error(`redis-server on port ${port}: not ready within ${READY_TIMEOUT_MS} ms`);
}

let resolved: Promise<string> | null = null;

/** The Redis URL of this run (found or started once, then shared by every row). */
export function benchRedisUrl(): Promise<string> {
  if (resolved === null) {
    resolved = (async () => {
      const explicit = process.env['BENCH_REDIS_URL'];
      if (explicit !== undefined && explicit !== '') {
        // An explicit URL that does not answer is an error: a row would silently measure the fallback.
        if (!(await pingRedis(explicit))) throw new Error(`no Redis answers at BENCH_REDIS_URL=${explicit}`);
        return explicit;
      }
      return (await pingRedis(DEFAULT_URL)) ? DEFAULT_URL : startRedisServer();
    })();
    // a failure is reported by each row that asks, not as an unhandled rejection
    resolved.catch(() => {});
  }
  return resolved;
}
