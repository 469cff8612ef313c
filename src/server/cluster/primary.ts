/**
 * `server.workers` (issue 8 §4): scale out on one host with node:cluster.
 *
 * The primary does no request work. It forks N workers, each of which runs the whole gateway
 * (the same `serve` path as a single process) and listens on the same ports: cluster's
 * round-robin hands each accepted connection to the next worker. Rate-limit buckets are shared
 * through Redis as between hosts; without `redis` each worker has its own in-process buckets,
 * so a limit is enforced per worker (docs/performance.md).
 *
 * The primary (this file; its admin listener: primary-admin.ts; the worker side: worker.ts):
 * - serves the admin listener itself, so a scrape sees every worker: `/metrics` sums the
 *   workers' registries (prom-client's AggregatorRegistry.aggregate, asked over the cluster IPC
 *   channel; counters of replaced workers carried over so sums never go down), `/readyz` is
 *   ready when every worker is, `/healthz` answers for the primary, `/.well-known/jwks.json`
 *   the identity-token keys the workers sign with (asked at each fetch). Workers do not open the
 *   admin listener.
 * - forwards SIGHUP to every worker; each reloads on its own, and one that rejects the new
 *   config keeps serving the old one, exactly as a single process does.
 * - on SIGTERM/SIGINT forwards SIGTERM, keeps the admin listener up while the workers drain,
 *   and exits 0 once all have exited (1 if one had to be killed after the grace period).
 * - replaces a worker that exits unexpectedly, after a backoff that doubles while replacements
 *   keep dying young (a crash loop must not spin the CPU), and logs every exit.
 * - gives up at start-up (exit 1) when a first-generation worker dies before it is ready: a
 *   port in use or an unreadable key file will not fix itself by retrying.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Server } from 'node:http';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { loadConfigFile } from '../../config/load.js';
import { ConfigError } from '../../config/errors.js';
import type { GatewayConfig } from '../../config/types.js';
import {
  MSG_JWKS_RES, MSG_METRICS_RES, MSG_READY, MSG_READYZ_RES, isMessage, type JwksResponse, type MetricsResponse, type ReadyMessage, type ReadyzResponse,
} from './messages.js';
import { PrimaryAdmin, type Slot } from './primary-admin.js';

/** First restart delay; doubles per young death up to RESTART_MAX_MS. */
const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 10_000;
/** A worker that lived this long resets its slot's backoff. */
const HEALTHY_AFTER_MS = 10_000;
/** Beyond shutdownGraceMs: what a worker may take to close resources and flush its log. */
const EXIT_MARGIN_MS = 5_000;
/** Upper bound of `server.workers` (the schema's maximum). */
export const MAX_WORKERS = 128;

/** The number of worker processes `server.workers` asks for: 0 means one per CPU. */
export function workerCount(cfg: GatewayConfig): number {
  const n = cfg.server.workers;
  return n === 0 ? Math.min(availableParallelism(), MAX_WORKERS) : n;
}

export interface PrimaryOptions {
  readonly configPath: string;
  readonly config: GatewayConfig;
  readonly logger: Logger;
  /** Flushes the log; called before the process exits. */
  readonly flush: () => void;
}

/** Runs the cluster primary until shutdown; resolves with the process exit code. */
export function runPrimary(opts: PrimaryOptions): Promise<number> {
  return new Primary(opts).run();
}

class Primary {
  readonly #configPath: string;
  readonly #logger: Logger;
  #config: GatewayConfig;
  readonly #slots: Slot[];
  #admin: Server | null = null;
  #shuttingDown = false;
  #exit: ((code: number) => void) | null = null;
  /** 0 unless start-up failed or a worker had to be killed at the deadline. */
  #exitCode = 0;
  readonly #adminEndpoints: PrimaryAdmin;

  constructor(opts: PrimaryOptions) {
    this.#configPath = opts.configPath;
    this.#config = opts.config;
    this.#logger = opts.logger;
    const n = workerCount(opts.config);
    this.#slots = Array.from({ length: n }, (_, index) => ({
      index, worker: null, startedAt: 0, ready: false, everReady: false, backoffMs: RESTART_MIN_MS, restartTimer: null, lastMetrics: null,
    }));
    this.#adminEndpoints = new PrimaryAdmin(this.#slots, this.#logger, () => this.#shuttingDown);
  }

  run(): Promise<number> {
    const done = new Promise<number>((resolve) => { this.#exit = resolve; });
    cluster.on('message', (worker, message: unknown) => this.#onMessage(worker, message));
    process.on('SIGHUP', () => { void this.#reload(); });
    process.on('SIGTERM', () => this.#shutdown('SIGTERM'));
    process.on('SIGINT', () => this.#shutdown('SIGINT'));
    this.#logger.info({ workers: this.#slots.length, pid: process.pid }, 'starting workers');
    for (const slot of this.#slots) this.#fork(slot);
    const admin = this.#config.listeners.admin;
    if (admin) {
      this.#admin = this.#adminEndpoints.createServer();
      this.#admin.once('error', (err) => {
        this.#logger.fatal({ err, listener: 'admin' }, 'cannot start listeners');
        this.#shutdown('admin listener failed', 1);
      });
      this.#admin.listen({ host: admin.host, port: admin.port }, () => {
        const addr = this.#admin?.address();
        if (addr !== null && typeof addr === 'object') {
          this.#logger.info({ listener: 'admin', address: addr.address, port: addr.port }, 'listening');
        }
      });
    }
    return done;
  }

  #fork(slot: Slot): void {
    slot.restartTimer = null;
    slot.ready = false;
    slot.startedAt = Date.now();
    const worker = cluster.fork({ PORTCULLIS_WORKER_INDEX: String(slot.index + 1) });
    slot.worker = worker;
    worker.once('exit', (code, signal) => this.#onExit(slot, worker, code, signal));
  }

  #onMessage(worker: Worker, message: unknown): void {
    if (isMessage<ReadyMessage>(message, MSG_READY)) {
      const slot = this.#slots.find((s) => s.worker === worker);
      if (slot === undefined) return;
      slot.ready = true;
      slot.everReady = true;
      this.#logger.info({ worker: slot.index + 1, pid: worker.process.pid }, 'worker ready');
      if (this.#slots.every((s) => s.ready)) this.#logger.info({ workers: this.#slots.length }, 'all workers ready');
    } else if (isMessage<ReadyzResponse>(message, MSG_READYZ_RES) || isMessage<MetricsResponse>(message, MSG_METRICS_RES)
      || isMessage<JwksResponse>(message, MSG_JWKS_RES)) {
      this.#adminEndpoints.answer(message);
    }
  }

  #onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = null;
    slot.ready = false;
    this.#adminEndpoints.carry(slot);
    // `worker` is the slot (1…N), as in the workers' own lines; a replacement keeps it
    const fields = { worker: slot.index + 1, pid: worker.process.pid, code, signal };
    if (this.#shuttingDown) {
      this.#logger.info(fields, 'worker stopped');
      this.#maybeExit();
      return;
    }
    if (!slot.everReady) {
      // Start-up failure (port in use, bad key file …): retrying would only loop.
      this.#logger.fatal(fields, 'worker exited before it was ready: cannot start listeners');
      this.#shutdown('worker failed to start', 1);
      return;
    }
    const livedMs = Date.now() - slot.startedAt;
    if (livedMs >= HEALTHY_AFTER_MS) slot.backoffMs = RESTART_MIN_MS;
    const delayMs = slot.backoffMs;
    slot.backoffMs = Math.min(slot.backoffMs * 2, RESTART_MAX_MS);
    this.#logger.error({ ...fields, livedMs, restartInMs: delayMs }, 'worker exited unexpectedly; restarting it');
    slot.restartTimer = setTimeout(() => this.#fork(slot), delayMs);
  }

  async #reload(): Promise<void> {
    if (this.#shuttingDown) return;
    // The workers read and compile the file themselves; the primary only takes what it uses.
    try {
      const next = await loadConfigFile(this.#configPath);
      if (workerCount(next) !== this.#slots.length) {
        this.#logger.warn({ workers: this.#slots.length, configured: workerCount(next) }, 'server.workers changed: it takes effect on restart, not on reload');
      }
      this.#config = next;
    } catch (err) {
      // Each worker logs the problems itself when it rejects the file.
      if (!(err instanceof ConfigError)) this.#logger.error({ err }, 'reading the config for reload failed');
    }
    let signalled = 0;
    for (const slot of this.#slots) {
      if (slot.worker !== null && slot.worker.process.kill('SIGHUP')) signalled++;
    }
    this.#logger.info({ workers: signalled }, 'SIGHUP forwarded to workers');
  }

  #shutdown(reason: string, exitCode = 0): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#exitCode = exitCode;
    const graceMs = this.#config.server.shutdownGraceMs;
    this.#logger.info({ reason, graceMs }, 'shutting down: draining workers');
    for (const slot of this.#slots) {
      if (slot.restartTimer !== null) clearTimeout(slot.restartTimer);
      slot.restartTimer = null;
      slot.worker?.process.kill('SIGTERM');
    }
    const deadline = setTimeout(() => {
      for (const slot of this.#slots) {
        if (slot.worker === null) continue;
        this.#logger.warn({ worker: slot.index + 1, pid: slot.worker.process.pid }, 'worker still running after the grace period: killing it');
        this.#exitCode = 1;
        slot.worker.process.kill('SIGKILL');
      }
    }, graceMs + EXIT_MARGIN_MS);
    deadline.unref();
    this.#maybeExit();
  }

  #maybeExit(): void {
    if (!this.#shuttingDown || this.#slots.some((s) => s.worker !== null)) return;
    const finish = (): void => {
      this.#logger.info('stopped');
      this.#exit?.(this.#exitCode);
    };
    // The admin listener served /readyz = 503 during the drain; it goes last.
    if (this.#admin === null || !this.#admin.listening) return finish();
    this.#admin.close(() => finish());
    this.#admin.closeAllConnections();
  }
}
