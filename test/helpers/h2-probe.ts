/**
 * What an HTTP/2 abuse test watches while it attacks (issue 21): a well-behaved HTTP/1.1 client on
 * the plain listener and a well-behaved HTTP/2 client on the HTTPS listener, each asking every
 * `everyMs`, and the gateway process's resident memory (read from /proc, Linux only).
 */
import { readFile } from 'node:fs/promises';
import { connect, type ClientHttp2Session } from 'node:http2';
import { request } from 'undici';

export interface ProbeReport {
  readonly h1: readonly number[];
  readonly h2: readonly number[];
  /** Probes that failed or took longer than the give-up time, as "h1: reason". */
  readonly failures: readonly string[];
  readonly maxMs: number;
  readonly maxRssMb: number;
}

/** Resident set size of a process in MB, from /proc/<pid>/status (VmRSS). */
export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m === null ? 0 : Number(m[1]) / 1024;
}

const GIVE_UP_MS = 5_000;

export class Probes {
  readonly #h1Url: string;
  readonly #h2Url: string;
  readonly #ca: Buffer | string;
  readonly #pid: number;
  #session: ClientHttp2Session | null = null;
  #timer: NodeJS.Timeout | null = null;
  #pending: Promise<void>[] = [];
  h1: number[] = [];
  h2: number[] = [];
  failures: string[] = [];
  maxRssMb = 0;

  constructor(h1Url: string, h2Url: string, ca: Buffer | string, pid: number) {
    this.#h1Url = h1Url;
    this.#h2Url = h2Url;
    this.#ca = ca;
    this.#pid = pid;
  }

  start(everyMs = 100): void {
    this.h1 = [];
    this.h2 = [];
    this.failures = [];
    this.maxRssMb = 0;
    this.#timer = setInterval(() => {
      this.#pending.push(this.#probeH1(), this.#probeH2(), this.#rss());
    }, everyMs);
  }

  async stop(): Promise<ProbeReport> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await Promise.all(this.#pending);
    this.#pending = [];
    const all = [...this.h1, ...this.h2];
    return { h1: this.h1, h2: this.h2, failures: this.failures, maxMs: all.length ? Math.max(...all) : Infinity, maxRssMb: this.maxRssMb };
  }

  close(): void {
    this.#session?.destroy();
    this.#session = null;
  }

  async #rss(): Promise<void> {
    try {
      this.maxRssMb = Math.max(this.maxRssMb, await rssMb(this.#pid));
    } catch {
      // the process is gone: the test's own "survives" assertion reports it
    }
  }

  async #probeH1(): Promise<void> {
    const start = Date.now();
    try {
      const res = await request(this.#h1Url, { headersTimeout: GIVE_UP_MS, bodyTimeout: GIVE_UP_MS, reset: true });
      await res.body.text();
      if (res.statusCode !== 200) this.failures.push(`h1: status ${res.statusCode}`);
      this.h1.push(Date.now() - start);
    } catch (err) {
      this.failures.push(`h1: ${(err as Error).message}`);
      this.h1.push(Date.now() - start);
    }
  }

  #h2Session(): ClientHttp2Session {
    if (this.#session === null || this.#session.closed || this.#session.destroyed) {
      const url = new URL(this.#h2Url);
      const s = connect(url.origin, { host: '127.0.0.1', servername: 'localhost', ca: this.#ca });
      s.on('error', () => undefined);
      s.on('close', () => { if (this.#session === s) this.#session = null; });
      this.#session = s;
    }
    return this.#session;
  }

  async #probeH2(): Promise<void> {
    const start = Date.now();
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const stream = this.#h2Session().request({ ':path': new URL(this.#h2Url).pathname });
        const timer = setTimeout(() => { stream.close(); reject(new Error('timeout')); }, GIVE_UP_MS);
        let code = 0;
        stream.on('response', (h) => { code = Number(h[':status']); });
        stream.on('error', (err) => { clearTimeout(timer); reject(err); });
        stream.on('close', () => { clearTimeout(timer); if (code === 0) reject(new Error(`closed, code ${stream.rstCode ?? '?'}`)); else resolve(code); });
        stream.resume();
      });
      if (status !== 200) this.failures.push(`h2: status ${status}`);
    } catch (err) {
      this.failures.push(`h2: ${(err as Error).message}`);
    }
    this.h2.push(Date.now() - start);
  }
}
