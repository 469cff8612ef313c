/**
 * RequestMetrics (observe/request-metrics.ts) caches prom-client children; what a scrape shows
 * must be exactly what calling labels(…) each time would have produced.
 */
import t from 'tap';
import { GatewayMetrics } from '../../src/observe/metrics.js';
import { RequestMetrics } from '../../src/observe/request-metrics.js';

void t.test('same exposition as uncached labels(…) calls, for repeated and new combinations', async (t) => {
  const cached = new GatewayMetrics({ defaultMetrics: false });
  const direct = new GatewayMetrics({ defaultMetrics: false });
  const rm = new RequestMetrics(cached);
  const calls: [string, string, number, string, number, number | null][] = [
    ['orders', 'GET', 200, 'allow', 0.004, 0.003],
    ['orders', 'GET', 200, 'allow', 0.02, 0.019],
    ['orders', 'POST', 429, 'rate_limited', 0.001, null],
    ['', 'GET', 404, 'no_route', 0.0002, null],
    ['orders', 'GET', 200, 'allow', 1.5, 1.49],
    // on a bucket bound, and above the last one (only +Inf, sum and count grow)
    ['orders', 'GET', 200, 'allow', 0.0005, 0.025],
    ['orders', 'GET', 503, 'upstream_error', 45, 31],
    ['orders', 'GET', 503, 'upstream_error', 0, 0],
  ];
  for (const [route, method, status, decision, d, u] of calls) {
    rm.record(route, method, status, decision, d, u);
    direct.requestsTotal.labels(route, method, String(status), decision).inc();
    direct.requestDuration.labels(route, decision).observe(d);
    if (u !== null) direct.upstreamDuration.labels(route).observe(u);
  }
  t.equal(await cached.registry.metrics(), await direct.registry.metrics());
  t.match(await cached.registry.metrics(), /portcullis_requests_total\{route="orders",method="GET",status="200",decision="allow"\} 4/);
  t.match(await cached.registry.metrics(), /portcullis_request_duration_seconds_bucket\{le="\+Inf",route="orders",decision="upstream_error"\} 2\n/);
  t.match(await cached.registry.metrics(), /portcullis_request_duration_seconds_sum\{route="orders",decision="upstream_error"\} 45\n/);
  // the cluster primary aggregates getMetricsAsJSON(): the same there too
  t.same(await cached.registry.getMetricsAsJSON(), await direct.registry.getMetricsAsJSON());
});

void t.test('a series another caller created through labels(…) is the one bumped', async (t) => {
  const m = new GatewayMetrics({ defaultMetrics: false });
  m.requestsTotal.labels('r', 'GET', '400', 'bad_request').inc();
  const rm = new RequestMetrics(m);
  rm.record('r', 'GET', 400, 'bad_request', 0.001, null);
  m.requestsTotal.labels('r', 'GET', '400', 'bad_request').inc();
  t.match(await m.registry.metrics(), /portcullis_requests_total\{route="r",method="GET",status="400",decision="bad_request"\} 3\n/);
});

void t.test('still counts after the metric is reset (cached children stay valid)', async (t) => {
  const m = new GatewayMetrics({ defaultMetrics: false });
  const rm = new RequestMetrics(m);
  rm.record('r', 'GET', 200, 'allow', 0.001, 0.001);
  m.registry.resetMetrics();
  rm.record('r', 'GET', 200, 'allow', 0.001, 0.001);
  const text = await m.registry.metrics();
  t.match(text, /portcullis_requests_total\{route="r",method="GET",status="200",decision="allow"\} 1\n/);
  t.match(text, /portcullis_request_duration_seconds_count\{route="r",decision="allow"\} 1\n/);
  t.match(text, /portcullis_upstream_duration_seconds_count\{route="r"\} 1\n/);
  m.upstreamDuration.remove('r');
  rm.record('r', 'GET', 200, 'allow', 0.001, 0.001);
  t.match(await m.registry.metrics(), /portcullis_upstream_duration_seconds_count\{route="r"\} 1\n/, 'a removed series starts again');
});

void t.test('a prom-client without the series store this relies on: every call goes through its public API', async (t) => {
  const { Counter, Histogram, Registry } = await import('prom-client');
  const { CounterSeries, HistogramSeries } = await import('../../src/observe/series-entry.js');
  const registry = new Registry();
  const counter = new Counter({ name: 'c_total', help: 'c', labelNames: ['a'], registers: [registry] });
  const histogram = new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['a'], buckets: [0.1, 1], registers: [registry] });
  // what a release that renamed its internals would look like to series-entry.ts
  const hidden = (metric: object, names: string[]): void => {
    for (const name of names) Object.defineProperty(metric, name, { value: undefined, configurable: true });
  };
  const counterView = Object.create(counter) as typeof counter;
  const histogramView = Object.create(histogram) as typeof histogram;
  // prom-client sorts the label names itself when sortedLabelNames is absent
  hidden(counterView, ['sortedLabelNames']);
  hidden(histogramView, ['sortedLabelNames']);
  const c = new CounterSeries(counterView, { a: 'x' });
  const h = new HistogramSeries(histogramView, { a: 'x' });
  for (let i = 0; i < 3; i++) {
    c.inc();
    h.observe(0.5);
  }
  const text = await registry.metrics();
  t.match(text, /c_total\{a="x"\} 3\n/);
  t.match(text, /h_seconds_bucket\{le="1",a="x"\} 3\n/);
  t.match(text, /h_seconds_count\{a="x"\} 3\n/);
});
