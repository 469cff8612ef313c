/**
 * A real server binary (NGINX, HAProxy) run in the foreground for a test: its config written to
 * a fresh temporary directory, started on a free port, waited for until that port opens, and on
 * close stopped and its directory removed. When it does not come up, what it wrote is in the error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.js';

export interface ForegroundServerSpec {
  /** `nginx`, `haproxy`: names the temporary directory and the error when it does not start. */
  readonly name: string;
  /** The binary, or null when it is not installed. */
  readonly bin: string | null;
  /** How to install it, for the error when `bin` is null. */
  readonly install: string;
  /** The file name the config is written under in the temporary directory. */
  readonly configName: string;
  /** The port to listen on; a free one when unset. */
  readonly port?: number;
  /** The config text for `port`; `dir` is the temporary directory, for files of its own. */
  config(port: number, dir: string): Promise<string>;
  /** The command line, given the temporary directory and the config file's path. */
  args(dir: string, configFile: string): string[];
  /** A log it writes to a file rather than stdout/stderr (NGINX's error.log), for the start error. */
  readLog?(dir: string): Promise<string>;
  /**
   * Leave stdout unread (/dev/null): NGINX's shipped config opens /dev/stdout for its access log,
   * and a pipe from Node is a socket, which cannot be opened by that name (ENXIO).
   */
  readonly discardStdout?: boolean;
}

export interface ForegroundServer {
  readonly port: number;
  readonly url: string;
  /** Its temporary directory (config, logs, pid file). */
  readonly dir: string;
  /** What it wrote to stdout (unless discarded) and stderr so far. */
  output(): string;
  close(): Promise<void>;
}

export async function startForegroundServer(spec: ForegroundServerSpec): Promise<ForegroundServer> {
  if (spec.bin === null) throw new Error(`${spec.name} is not installed (${spec.install})`);
  const port = spec.port ?? await freePort();
  const dir = await mkdtemp(join(tmpdir(), `portcullis-${spec.name}-`));
  const configFile = join(dir, spec.configName);
  await writeFile(configFile, await spec.config(port, dir));
  const child = spawn(spec.bin, spec.args(dir, configFile), { stdio: ['ignore', spec.discardStdout === true ? 'ignore' : 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => { out += c.toString('utf8'); });
  child.stderr!.on('data', (c: Buffer) => { out += c.toString('utf8'); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const close = async (): Promise<void> => {
    await stop(child, exited);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, 5_000);
  } catch (err) {
    await stop(child, exited);
    const log = spec.readLog === undefined ? '' : await spec.readLog(dir);
    await close();
    throw new Error(`${spec.name} did not start: ${(err as Error).message}\n${out}${log}`);
  }
  return { port, url: `http://127.0.0.1:${port}`, dir, output: () => out, close };
}

/** SIGTERM is NGINX's (and HAProxy's) fast shutdown; SIGKILL if it lingers. */
async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}
