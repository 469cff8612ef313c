// The load generator: autocannon, run in-process with the same settings for every scenario.
import autocannon from 'autocannon';

/** What a scenario sends; every connection repeats the same request. */
export interface LoadSpec {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query, e.g. "/" or "/api/orders?limit=10". */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /**
   * Many distinct clients: request n (counted over all connections) gets `headers(n % count)`
   * added to `headers`, e.g. one of 10,000 tokens and X-Forwarded-For addresses. This costs the
   * load generator a request rebuild each time, so only rows that need it use it.
   */
  rotate?: { count: number; headers(i: number): Record<string, string> };
}

export interface LoadSettings {
  connections: number;
  pipelining: number;
  warmupSec: number;
  durationSec: number;
  /**
   * Offered load in requests per second over all connections (BENCH_RATE), or null for as fast
   * as possible. At a fixed rate below every row's capacity, latency percentiles compare the
   * time each proxy adds; flat out they mostly measure queueing (Little's law: with 50
   * connections, p50 ≈ 50 / req/s), so a slower row's p99 is higher by construction.
   */
  rate?: number | null;
}

export interface LoadResult {
  /** autocannon's average of its per-second samples. */
  requestsPerSec: number;
  /** Responses received during the measured run. */
  responses: number;
  /** Exact percentiles over every response of the measured run, in ms. */
  latencyMs: { p50: number; p99: number; mean: number; max: number };
  non2xx: number;
  statusCodes: Record<string, number>;
  /** Connection errors, including timeouts. */
  errors: number;
  timeouts: number;
  /** Distinct error codes/messages seen, with counts (at most MAX_ERROR_KINDS). */
  errorKinds: Record<string, number>;
  durationSec: number;
}

const MAX_ERROR_KINDS = 10;

let current: autocannon.Instance | null = null;

/** Ends the warm-up or measurement in progress (SIGINT); its promise resolves with partial numbers. */
export function stopLoad(): void {
  current?.stop();
}

/**
 * Latencies of every response, in ms. autocannon's own histogram has a resolution of 1 ms,
 * too coarse for a sub-millisecond-to-few-ms loopback proxy, so the raw times are kept instead.
 */
class LatencyRecorder {
  #values = new Float64Array(1 << 16);
  #count = 0;

  readonly record = (_client: unknown, _status: number, _bytes: number, ms: number): void => {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count++] = ms;
  };

  get count(): number {
    return this.#count;
  }

  summary(): LoadResult['latencyMs'] {
    const n = this.#count;
    if (n === 0) return { p50: 0, p99: 0, mean: 0, max: 0 };
    const sorted = this.#values.subarray(0, n).sort();
    // nearest-rank percentile
    const at = (p: number): number => sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)] ?? 0;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i] ?? 0;
    return { p50: at(50), p99: at(99), mean: sum / n, max: sorted[n - 1] ?? 0 };
  }
}

function run(url: string, spec: LoadSpec, connections: number, durationSec: number, rate: number | null): autocannon.Instance {
  const opts: autocannon.Options = {
    url: new URL(spec.path, url).href,
    connections,
    pipelining: 1,
    duration: durationSec,
    method: spec.method ?? 'GET',
  };
  if (rate !== null) opts.overallRate = rate;
  if (spec.headers) opts.headers = spec.headers;
  if (spec.body !== undefined) opts.body = spec.body;
  const rotate = spec.rotate;
  if (rotate !== undefined) {
    const fixed = spec.headers ?? {};
    let n = 0;
    opts.requests = [{
      setupRequest: (req) => {
        req.headers = { ...fixed, ...rotate.headers(n++ % rotate.count) };
        return req;
      },
    }];
  }
  const instance = autocannon(opts);
  current = instance;
  return instance;
}

/** Warm-up (results discarded), `beforeMeasured`, then the measured run, against base URL `url`. */
export async function runLoad(
  url: string, spec: LoadSpec, settings: LoadSettings, shouldStop: () => boolean, beforeMeasured?: () => Promise<void>,
): Promise<LoadResult> {
  try {
    if (settings.warmupSec > 0) await run(url, spec, settings.connections, settings.warmupSec, settings.rate ?? null);
    if (shouldStop()) throw new Error('interrupted');
    if (beforeMeasured !== undefined) await beforeMeasured();

    const latencies = new LatencyRecorder();
    const errorKinds: Record<string, number> = {};
    const instance = run(url, spec, settings.connections, settings.durationSec, settings.rate ?? null);
    instance.on('response', latencies.record);
    instance.on('reqError', (err) => {
      const kind = err.code ?? err.message;
      if (kind in errorKinds) errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      else if (Object.keys(errorKinds).length < MAX_ERROR_KINDS) errorKinds[kind] = 1;
    });
    const r = await instance;
    if (shouldStop()) throw new Error('interrupted');

    const statusCodes: Record<string, number> = {};
    for (const [code, stat] of Object.entries(r.statusCodeStats)) statusCodes[code] = Number(stat.count);
    return {
      requestsPerSec: r.requests.average,
      responses: latencies.count,
      latencyMs: latencies.summary(),
      non2xx: r.non2xx,
      statusCodes,
      errors: r.errors,
      timeouts: r.timeouts,
      errorKinds,
      durationSec: r.duration,
    };
  } finally {
    current = null;
  }
}
