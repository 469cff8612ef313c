/**
 * Upstream targets: one undici keep-alive Pool per target URL, created at
 * compile time and closed when the Gateway that owns it is retired.
 *
 * Several targets are used round-robin. Passive ejection: a target whose
 * connections fail `EJECT_AFTER_FAILURES` times in a row is skipped for
 * `EJECT_FOR_MS`; if every target is ejected the least recently ejected one
 * is tried anyway (failing open to "try" beats failing closed to "502").
 */
import { Pool } from 'undici';
import type { TargetTls, UpstreamTls } from './tls.js';

const EJECT_AFTER_FAILURES = 3;
const EJECT_FOR_MS = 10_000;

export interface UpstreamOptions {
  readonly timeoutMs: number;
  readonly retries: number;
}

export class UpstreamTarget {
  readonly url: string;
  readonly origin: string;
  /** Path prefix of the target URL ('' when the URL has none), prepended to forwarded paths. */
  readonly basePath: string;
  readonly pool: Pool;
  /** https targets: the fixed TLS server name and connector (tls.ts); null for http. */
  readonly tls: TargetTls | null;
  #consecutiveFailures = 0;
  #ejectedUntil = 0;

  constructor(url: string, tls: UpstreamTls | null = null) {
    const parsed = new URL(url);
    this.url = url;
    this.origin = parsed.origin;
    this.basePath = parsed.pathname === '/' ? '' : parsed.pathname.replace(/\/$/, '');
    this.tls = parsed.protocol === 'https:' && tls !== null ? tls.forTarget(parsed) : null;
    this.pool = new Pool(parsed.origin, {
      connections: 256,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      connect: this.tls === null ? { timeout: 5_000 } : this.tls.connect,
    });
  }

  isEjected(now: number): boolean {
    return this.#ejectedUntil > now;
  }

  get ejectedUntil(): number {
    return this.#ejectedUntil;
  }

  reportSuccess(): void {
    this.#consecutiveFailures = 0;
  }

  /** Returns true when this failure ejected the target. */
  reportFailure(now: number): boolean {
    this.#consecutiveFailures++;
    if (this.#consecutiveFailures >= EJECT_AFTER_FAILURES && !this.isEjected(now)) {
      this.#ejectedUntil = now + EJECT_FOR_MS;
      this.#consecutiveFailures = 0;
      return true;
    }
    return false;
  }
}

export class UpstreamGroup {
  readonly targets: readonly UpstreamTarget[];
  readonly options: UpstreamOptions;
  #next = 0;

  constructor(urls: readonly string[], options: UpstreamOptions, tls: UpstreamTls | null = null) {
    this.targets = urls.map((u) => new UpstreamTarget(u, tls));
    this.options = options;
  }

  /** The next healthy target, round-robin; `avoid` is skipped when another exists. */
  pick(avoid: UpstreamTarget | null = null): UpstreamTarget {
    const targets = this.targets;
    const n = targets.length;
    if (n === 1) return targets[0]!;
    const now = Date.now();
    for (let i = 0; i < n; i++) {
      const t = targets[this.#next++ % n]!;
      if (t !== avoid && !t.isEjected(now)) return t;
    }
    let best = targets[0]!;
    for (const t of targets) if (t !== avoid && t.ejectedUntil < best.ejectedUntil) best = t;
    return best;
  }

  async close(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.pool.close().catch(() => t.pool.destroy())));
  }
}
