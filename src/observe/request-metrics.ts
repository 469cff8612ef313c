/**
 * The three per-request observations of PRODUCT §6 (`portcullis_requests_total`,
 * `portcullis_request_duration_seconds`, `portcullis_upstream_duration_seconds`), with the
 * prom-client children of each label combination resolved once (STYLE §3: metric label children
 * pre-resolved). `labels(…)` validates and hashes its arguments on every call; three such calls
 * per request measured 1.7-2.4 µs, 1.3-1.9 µs with the children cached (docs/performance.md).
 * prom-client's children still hash their labels on every inc/observe, which is the rest.
 *
 * One instance per Gateway (a reload starts afresh, so route names of an old config do not
 * linger here), bounded: past MAX_COMBINATIONS, new combinations are recorded uncached.
 */
import type { Counter, Histogram } from 'prom-client';
import type { GatewayMetrics } from './metrics.js';
import { methodLabel } from './method-label.js';

/** Far above route × method × status × decision in practice; only a bound against the unexpected. */
const MAX_COMBINATIONS = 4096;

interface Children {
  readonly requests: Counter.Internal;
  readonly duration: Histogram.Internal<'route' | 'decision'>;
  readonly upstream: Histogram.Internal<'route'>;
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
        requests: m.requestsTotal.labels(route, method, String(status), decision),
        duration: m.requestDuration.labels(route, decision),
        upstream: m.upstreamDuration.labels(route),
      };
      if (this.#children.size < MAX_COMBINATIONS) this.#children.set(key, c);
    }
    c.requests.inc();
    c.duration.observe(durationSec);
    if (upstreamSec !== null) c.upstream.observe(upstreamSec);
  }
}
