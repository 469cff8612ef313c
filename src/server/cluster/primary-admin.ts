/**
 * The admin listener of the cluster primary (server.workers): /healthz for the primary itself,
 * /readyz ready when every worker is, /metrics the sum of the workers' registries (prom-client's
 * AggregatorRegistry, asked over IPC; counters of replaced workers carried over so sums never go
 * down), /.well-known/jwks.json the identity-token keys the workers sign with (asked over IPC at
 * each fetch, so a SIGHUP rotation is served as soon as the workers have reloaded). Workers do not
 * open the admin listener.
 */
import type { Worker } from 'node:cluster';
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { JWKS_PATH, json, sendJwks } from '../admin.js';
import {
  MSG_JWKS_REQ, MSG_METRICS_REQ, MSG_READYZ_REQ, type JwksRequest, type JwksResponse, type MetricsJson, type MetricsRequest,
  type MetricsResponse, type ReadyzRequest, type ReadyzResponse,
} from './messages.js';

/** How long /readyz and /metrics wait for each worker's answer. */
const ASK_TIMEOUT_MS = 2_000;
/** Metric types whose values a replaced worker leaves behind (gauges describe live processes only). */
const CARRIED_TYPES: ReadonlySet<string> = new Set(['counter', 'histogram']);
/** One worker position: its current process and its restart history. */
export interface Slot {
  readonly index: number;
  worker: Worker | null;
  startedAt: number;
  ready: boolean;
  /** Whether any process of this slot has been ready (a first-generation death before it is fatal). */
  everReady: boolean;
  backoffMs: number;
  restartTimer: NodeJS.Timeout | null;
  /** The current worker's answer to the last /metrics scrape (carried over when it dies). */
  lastMetrics: MetricsJson | null;
}

export class PrimaryAdmin {
  readonly #slots: readonly Slot[];
  readonly #logger: Logger;
  readonly #isShuttingDown: () => boolean;
  #nextAskId = 0;
  /** Answers awaited from workers, by request id. */
  readonly #waiters = new Map<number, (answer: unknown) => void>();
  /**
   * Counters and histograms of workers that have exited, as last scraped: added to every later
   * scrape so the summed series never go down when a worker is replaced (Prometheus would read
   * the drop as a counter reset and over-count rate()). What a dead worker counted after the
   * last scrape is lost; what was exposed stays exposed.
   */
  #carried: MetricsJson[] = [];

  constructor(slots: readonly Slot[], logger: Logger, isShuttingDown: () => boolean) {
    this.#slots = slots;
    this.#logger = logger;
    this.#isShuttingDown = isShuttingDown;
  }

  /** A worker's answer to one of our questions. */
  answer(message: ReadyzResponse | MetricsResponse | JwksResponse): void {
    this.#waiters.get(message.id)?.(message);
  }

  /** A worker left: keep its last scraped counters and histograms. */
  carry(slot: Slot): void {
    if (slot.lastMetrics === null) return;
    // String(): at run time `type` is 'counter' | 'gauge' | …; prom-client's typings say an enum
    this.#carried.push(slot.lastMetrics.filter((m) => CARRIED_TYPES.has(String(m.type))));
    slot.lastMetrics = null;
  }

  createServer(): Server {
    return createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method_not_allowed' });
      if (path === '/healthz') return json(res, 200, { status: 'ok' });
      if (path === '/readyz') {
        this.#readyz().then(
          (reasons) => (reasons.length ? json(res, 503, { status: 'not_ready', reasons }) : json(res, 200, { status: 'ready' })),
          () => json(res, 500, { error: 'internal_error' }),
        );
        return;
      }
      if (path === '/metrics') {
        this.#metrics().then(
          (registry) => registry.metrics().then((text) => {
            res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(text) });
            res.end(text);
          }),
          (err: unknown) => {
            this.#logger.error({ err }, 'metrics collection from the workers failed');
            json(res, 503, { error: 'unavailable' });
          },
        );
        return;
      }
      if (path === JWKS_PATH) {
        this.#jwks().then(
          (jwks) => {
            if (jwks === null) return json(res, 404, { error: 'not_found' });
            sendJwks(res, req.method, jwks.body, jwks.cacheControl);
          },
          (err: unknown) => {
            this.#logger.error({ err }, 'JWKS collection from the workers failed');
            json(res, 503, { error: 'unavailable' });
          },
        );
        return;
      }
      json(res, 404, { error: 'not_found' });
    });
  }

  /**
   * The identity-token JWKS of the ready workers. They agree except while a SIGHUP reload is
   * going through them one by one: then the union of their keys is served (a reloaded worker
   * signs with the new key, one not yet reloaded with the old one: a relying party must find
   * both), with `no-cache` so that it is fetched again once the rotation has settled. Null (404)
   * when no worker has identityTokens configured; a rejection (503) when no worker answered.
   */
  async #jwks(): Promise<{ body: string; cacheControl: string } | null> {
    const answers = await Promise.all(this.#slots.map(async (slot): Promise<JwksResponse['jwks'] | undefined> => {
      const worker = slot.worker;
      if (worker === null || !slot.ready || !worker.isConnected()) return undefined;
      const answer = await this.#ask(worker, { type: MSG_JWKS_REQ, id: this.#nextAskId++ } satisfies JwksRequest);
      return typeof answer === 'string' ? undefined : (answer as JwksResponse).jwks;
    }));
    const answered = answers.filter((a) => a !== undefined);
    if (answered.length === 0) throw new Error('no worker answered');
    const sets = answered.filter((a) => a !== null);
    if (sets.length === 0) return null;
    const first = sets[0]!;
    if (sets.every((s) => s.body === first.body && s.cacheControl === first.cacheControl)) return first;
    const keys = new Map<string, unknown>();
    for (const s of sets) {
      for (const k of (JSON.parse(s.body) as { keys: unknown[] }).keys) keys.set(JSON.stringify(k), k);
    }
    return { body: JSON.stringify({ keys: [...keys.values()] }), cacheControl: 'no-cache' };
  }

  /** Every worker's not-ready reasons, prefixed with its slot; a missing or silent worker is one too. */
  async #readyz(): Promise<string[]> {
    if (this.#isShuttingDown()) return ['shutting down'];
    const answers = await Promise.all(this.#slots.map(async (slot): Promise<string[]> => {
      const worker = slot.worker;
      if (worker === null || !slot.ready || !worker.isConnected()) return [`worker ${slot.index + 1}: not running`];
      const answer = await this.#ask(worker, { type: MSG_READYZ_REQ, id: this.#nextAskId++ } satisfies ReadyzRequest);
      if (typeof answer === 'string') return [`worker ${slot.index + 1}: ${answer}`];
      const reasons = (answer as ReadyzResponse).reasons;
      return Array.isArray(reasons) ? reasons.map((r) => `worker ${slot.index + 1}: ${String(r)}`) : [];
    }));
    return answers.flat();
  }

  /**
   * The ready workers' registries summed (counters and histograms add up; prom-client's own
   * aggregators for the default process metrics). A worker that does not answer in time is left
   * out of this scrape rather than failing it.
   */
  async #metrics(): Promise<Registry> {
    const answers = await Promise.all(this.#slots.map(async (slot): Promise<MetricsJson | null> => {
      const worker = slot.worker;
      if (worker === null || !slot.ready || !worker.isConnected()) return null;
      const answer = await this.#ask(worker, { type: MSG_METRICS_REQ, id: this.#nextAskId++ } satisfies MetricsRequest);
      const metrics = typeof answer === 'string' ? null : (answer as MetricsResponse).metrics;
      // only if the same process is still in the slot: a replacement must not inherit its predecessor's snapshot
      if (metrics !== null && slot.worker === worker) slot.lastMetrics = metrics;
      return metrics;
    }));
    if (this.#carried.length > 1) {
      // keep one merged snapshot, however many workers have died
      this.#carried = [await AggregatorRegistry.aggregate(this.#carried).getMetricsAsJSON()];
    }
    return AggregatorRegistry.aggregate([...answers.filter((m): m is MetricsJson => m !== null), ...this.#carried]);
  }

  /** Sends `request` and resolves with the worker's answer, or a reason string when there is none. */
  #ask(worker: Worker, request: ReadyzRequest | MetricsRequest | JwksRequest): Promise<unknown> {
    const id = request.id;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish('no answer'), ASK_TIMEOUT_MS);
      const finish = (answer: unknown): void => {
        clearTimeout(timer);
        this.#waiters.delete(id);
        resolve(answer);
      };
      this.#waiters.set(id, finish);
      worker.send(request, (err: Error | null) => { if (err) finish(`unreachable (${err.message})`); });
    });
  }
}

