/**
 * Real HAProxy (the Debian package; .ci/run installs it) on 127.0.0.1, running the SHIPPED
 * config/haproxy/haproxy.cfg and its Lua action with only the three addresses replaced
 * (bench/haproxy.ts, shared with the bench row): where it listens, where Portcullis's auth
 * listener is, where the backend is. It runs in the foreground (-db) and is stopped by the test.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findHaproxy, HAPROXY_ROOT, SHIPPED_HAPROXY_CFG, shippedHaproxyCfg } from '../../bench/haproxy.js';
import { freePort, stop, waitForPort } from './nginx.js';

export { findHaproxy, SHIPPED_HAPROXY_CFG };
export const REPO_ROOT = HAPROXY_ROOT;

export interface TestHaproxy {
  readonly port: number;
  readonly url: string;
  /** What HAProxy wrote so far (its warnings, the Lua action's included). */
  output(): string;
  close(): Promise<void>;
}

export async function startHaproxy(ports: { auth: number; backend: number }): Promise<TestHaproxy> {
  const bin = findHaproxy();
  if (bin === null) throw new Error('haproxy is not installed (apt-get install haproxy; .ci/run does it)');
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-haproxy-'));
  const cfg = join(dir, 'haproxy.cfg');
  await writeFile(cfg, await shippedHaproxyCfg({ listen: port, ...ports }));
  const child = spawn(bin, ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => { out += c.toString('utf8'); });
  child.stderr!.on('data', (c: Buffer) => { out += c.toString('utf8'); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await waitForPort(port, child, 5_000);
  } catch (err) {
    await stop(child, exited);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`haproxy did not start: ${(err as Error).message}\n${out}`);
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    close: async () => {
      await stop(child, exited);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
