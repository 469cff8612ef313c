/**
 * Real HAProxy (the Debian package; .ci/run installs it) on 127.0.0.1, running the SHIPPED
 * config/haproxy/haproxy.cfg and its Lua action with only the three addresses replaced: where it
 * listens, where Portcullis's auth listener is, where the backend is. It runs in the foreground
 * (-db) from the repository root (the cfg's `lua-load` path is relative to it) and is stopped by
 * the test.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, stop, waitForPort } from './nginx.js';

export const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const SHIPPED_HAPROXY_CFG = join(REPO_ROOT, 'config/haproxy/haproxy.cfg');

/** The addresses as written in the shipped file; each must appear exactly once there. */
const SHIPPED = { listen: '127.0.0.1:8000', auth: '127.0.0.1:8081', backend: '127.0.0.1:8070' } as const;

export interface TestHaproxy {
  readonly port: number;
  readonly url: string;
  /** What HAProxy wrote so far (its warnings, the Lua action's included). */
  output(): string;
  close(): Promise<void>;
}

/** The haproxy binary: on PATH or where Debian puts it; null when absent. */
export function findHaproxy(): string | null {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (dir !== '' && existsSync(join(dir, 'haproxy'))) return join(dir, 'haproxy');
  }
  return null;
}

export async function shippedHaproxyCfg(ports: { listen: number; auth: number; backend: number }): Promise<string> {
  let text = await readFile(SHIPPED_HAPROXY_CFG, 'utf8');
  for (const key of ['listen', 'auth', 'backend'] as const) {
    const parts = text.split(SHIPPED[key]);
    if (parts.length !== 2) throw new Error(`config/haproxy/haproxy.cfg must contain ${SHIPPED[key]} exactly once (found ${parts.length - 1})`);
    text = parts.join(`127.0.0.1:${ports[key]}`);
  }
  return text;
}

export async function startHaproxy(ports: { auth: number; backend: number }): Promise<TestHaproxy> {
  const bin = findHaproxy();
  if (bin === null) throw new Error('haproxy is not installed (apt-get install haproxy; .ci/run does it)');
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-haproxy-'));
  const cfg = join(dir, 'haproxy.cfg');
  await writeFile(cfg, await shippedHaproxyCfg({ listen: port, ...ports }));
  const child = spawn(bin, ['-db', '-f', cfg], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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
