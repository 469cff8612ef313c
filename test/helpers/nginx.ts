/**
 * Real NGINX (the Debian package; .ci/run installs it) on 127.0.0.1, running the SHIPPED
 * config/nginx/nginx.conf with only its three addresses replaced (bench/nginx.ts, shared with the
 * forward-auth bench row): where it listens, where Portcullis's auth listener is, and where the
 * backend is. It runs in the foreground with a temporary prefix, its own pid file and error log,
 * and is stopped by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNginx, nginxArgs, shippedNginxConf } from '../../bench/nginx.js';

export { findNginx };

export interface TestNginx {
  readonly port: number;
  readonly url: string;
  /** What NGINX wrote to its error log so far. */
  errorLog(): Promise<string>;
  close(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolvePort(port));
    });
  });
}

/**
 * `edit`: a change to the shipped text before it runs, such as the TLS snippet's include
 * (test/forward-auth/nginx-mtls.test.ts); it gets the temporary prefix for files of its own.
 * `confFile`: another shipped file of config/nginx than nginx.conf (sign-in.conf).
 */
export async function startNginx(
  ports: { auth: number; backend: number; listen?: number }, edit?: (text: string, prefix: string) => Promise<string>, confFile?: string,
): Promise<TestNginx> {
  const bin = findNginx();
  if (bin === null) throw new Error('nginx is not installed (apt-get install nginx; .ci/run does it)');
  const port = ports.listen ?? await freePort();
  const prefix = await mkdtemp(join(tmpdir(), 'portcullis-nginx-'));
  const shipped = await shippedNginxConf({ listen: port, auth: ports.auth, backend: ports.backend }, confFile);
  const text = edit === undefined ? shipped : await edit(shipped, prefix);
  const conf = join(prefix, 'nginx.conf');
  await writeFile(conf, text);
  const errorLog = join(prefix, 'error.log');
  const child = spawn(bin, nginxArgs(prefix, conf), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const readLog = async (): Promise<string> => (existsSync(errorLog) ? readFile(errorLog, 'utf8') : '');
  try {
    await waitForPort(port, child, 5_000);
  } catch (err) {
    await stop(child, exited);
    const log = await readLog();
    await rm(prefix, { recursive: true, force: true });
    throw new Error(`nginx did not start: ${(err as Error).message}\n${stderr}${log}`);
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    errorLog: readLog,
    close: async () => {
      await stop(child, exited);
      await rm(prefix, { recursive: true, force: true });
    },
  };
}

export async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    const open = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`port ${port} not open after ${timeoutMs} ms`);
}

/** SIGTERM is NGINX's (and HAProxy's) fast shutdown; SIGKILL if it lingers. */
export async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}
