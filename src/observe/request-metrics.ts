/**
 * The three per-request observations of PRODUCT §6 (`portcullis_requests_total`,
 * `portcullis_request_duration_seconds`, `portcullis_upstream_duration_seconds`), with no label
 * work per request (STYLE §3: metric label children pre-resolved). A prom-client child
 * (`labels(…)`) still rebuilds its label hash string, validates its labels and looks the series up
 * on every inc/observe (1.06 µs of the passthrough's profile, issue 17); here each label
 * combination's series record is looked up once (series-entry.ts) and then bumped in place, as
 * prom-client's own observe() would bump it. A scrape reads the same records, so /metrics is
 * unchanged (test/observe/request-metrics.test.ts compares it with plain labels(…) calls).
 *
 * One instance per Gateway (a reload starts afresh, so route names of an old config do not
 * linger here), bounded: past MAX_COMBINATIONS, new combinations are recorded uncached.
 */
import type { GatewayMetrics } from './metrics.js';
import { methodLabel } from './method-label.js';
import { CounterSeries, HistogramSeries } from './series-entry.js';

/** Far above route × method × status × decision in practice; only a bound against the unexpected. */
const MAX_COMBINATIONS = 4096;

interface Children {
  readonly requests: CounterSeries;
  readonly duration: HistogramSeries;
  readonly upstream: HistogramSeries;
}

export class RequestMetrics {
  readonly #metrics: GatewayMetrics;
  readonly #children = new Map<string, Children>();

  constructor(metrics: GatewayMetrics) {
    this.#metrics = metrics;
  }

  /** One finished request; `upstreamSec` null when it was not forwarded. */
  record(route: string, requestMethod: string, status: number, decision: string, durationSec: number, upstreamSec: number | null): void {
    // A fixed set of values (method-label.ts): a client must not mint series (issue 22 item 3).
    const method = methodLabel(requestMethod);
    // '\n' cannot occur in a route name (schema pattern), a method (RFC 9110 token) or a decision
    const key = route + '\n' + method + '\n' + status + '\n' + decision;
    let c = this.#children.get(key);
    if (c === undefined) {
      const m = this.#metrics;
      c = {
        requests: new CounterSeries(m.requestsTotal, { route, method, status: String(status), decision }),
        duration: new HistogramSeries(m.requestDuration, { route, decision }),
        upstream: new HistogramSeries(m.upstreamDuration, { route }),
      };
      if (this.#children.size < MAX_COMBINATIONS) this.#children.set(key, c);
    }
    c.requests.inc();
    c.duration.observe(durationSec);
    if (upstreamSec !== null) c.upstream.observe(upstreamSec);
  }
}
