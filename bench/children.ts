// Child-process plumbing for the benchmark: spawn, wait until ready, sample RSS, stop.
// Every child is registered so that run.ts can stop all of them on errors, signals or exit.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { PARENT_WATCH_ENV } from './child-io.js';

const STDERR_TAIL_BYTES = 8192;
const STOP_GRACE_MS = 5_000;

export interface SpawnOptions {
  /** Short label used in error messages. */
  name: string;
  /** Script (and its arguments) run with this same node binary, or with `command`. */
  args: readonly string[];
  /** Another executable (redis-server); default: this node binary. */
  command?: string;
  /** A file descriptor opened on a log file; default: a pipe read by waitForLine(). */
  stdoutFd?: number;
}

/** A spawned node process with the tail of its stderr kept for error messages. */
export class Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<string>;
  #stderr = '';
  #exitReason: string | null = null;

  constructor(opts: SpawnOptions) {
    this.name = opts.name;
    // stdin stays a pipe: our own children exit when it closes (child-io.ts), even if we are SIGKILLed.
    const stdio: StdioOptions = ['pipe', opts.stdoutFd ?? 'pipe', 'pipe'];
    this.proc = spawn(opts.command ?? process.execPath, [...opts.args], {
      stdio,
      env: { ...process.env, NODE_ENV: 'production', [PARENT_WATCH_ENV]: '1' },
    });
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.#exitReason = signal !== null ? `killed by ${signal}` : `exited with code ${String(code)}`;
        resolve(this.#exitReason);
      });
      this.proc.once('error', (err) => {
        this.#exitReason = `could not start: ${err.message}`;
        resolve(this.#exitReason);
      });
    });
    this.proc.stdin?.on('error', () => {}); // EPIPE when the child has already gone
    this.proc.stderr?.setEncoding('utf8');
    this.proc.stderr?.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-STDERR_TAIL_BYTES);
    });
    if (this.proc.pid === undefined) {
      // spawn failures surface asynchronously through 'error'; -1 never matches a real process
      this.pid = -1;
    } else {
      this.pid = this.proc.pid;
    }
    live.add(this);
    void this.exited.then(() => live.delete(this));
  }

  get running(): boolean {
    return this.#exitReason === null;
  }

  /** Why the child is not running any more, with its last stderr lines. */
  describeExit(): string {
    const lines = this.#stderr.split('\n').map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('at ') && !l.startsWith('Node.js v'));
    // an uncaught exception's header line says more than the end of its stack trace
    const detail = lines.find((l) => /^\w*Error\b/.test(l)) ?? lines.slice(-3).join(' | ');
    return `${this.name} ${this.#exitReason ?? 'is still running'}${detail ? `: ${detail}` : ''}`;
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.proc.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    await this.exited;
  }
}

const live = new Set<Child>();

/** Stops every child still running (used in finally blocks and on signals). */
export async function stopAll(graceMs = STOP_GRACE_MS): Promise<void> {
  await Promise.all([...live].map((c) => c.stop(graceMs)));
}

/** Last resort for process 'exit' handlers, where only synchronous work runs. */
export function killAllNow(): void {
  for (const c of live) c.proc.kill('SIGKILL');
}

function deadline<T>(ms: number, what: string): { promise: Promise<T>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not ready within ${ms} ms`)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

function exitAsError(child: Child): Promise<never> {
  return child.exited.then(() => {
    throw new Error(child.describeExit());
  });
}

/** Waits for "LISTENING <port>" on the child's stdout pipe and returns the port; then keeps draining stdout. */
export async function waitForListening(child: Child, timeoutMs: number): Promise<number> {
  const out = child.proc.stdout;
  if (!out) throw new Error(`${child.name}: stdout is not a pipe`);
  out.setEncoding('utf8');
  let buffered = '';
  let onData: ((chunk: string) => void) | undefined;
  const seen = new Promise<number>((resolve) => {
    onData = (chunk: string) => {
      buffered = (buffered + chunk).slice(-4096);
      const m = /^LISTENING (\d+)$/m.exec(buffered);
      if (m?.[1] !== undefined) resolve(Number(m[1]));
    };
    out.on('data', onData);
  });
  const limit = deadline<never>(timeoutMs, child.name);
  try {
    return await Promise.race([seen, exitAsError(child), limit.promise]);
  } finally {
    limit.cancel();
    if (onData) out.off('data', onData);
    out.resume(); // anything printed later is discarded, never left to fill the pipe
  }
}

/** Polls GET <url> until it answers with any status; fails early if the child exits. */
export async function waitForHttp(child: Child, url: string, timeoutMs: number): Promise<void> {
  const limit = deadline<never>(timeoutMs, child.name);
  let done = false;
  const poll = (async () => {
    let lastError = '';
    while (!done) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
        await res.arrayBuffer();
        return;
      } catch (err) {
        lastError = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${child.name}: ${lastError}`);
  })();
  try {
    await Promise.race([poll, exitAsError(child), limit.promise]);
  } finally {
    done = true;
    limit.cancel();
    poll.catch(() => {}); // the loser of the race may still reject
  }
}

/** A TCP port that was free a moment ago (bind to 0, read the port, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = addr !== null && typeof addr === 'object' ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not find a free port'))));
    });
  });
}

/** Resident set size of a process in bytes from /proc/<pid>/status (Linux); null elsewhere. */
export async function readRssBytes(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m?.[1] !== undefined ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}
