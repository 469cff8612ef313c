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
  ];
  for (const [route, method, status, decision, d, u] of calls) {
    rm.record(route, method, status, decision, d, u);
    direct.requestsTotal.labels(route, method, String(status), decision).inc();
    direct.requestDuration.labels(route, decision).observe(d);
    if (u !== null) direct.upstreamDuration.labels(route).observe(u);
  }
  t.equal(await cached.registry.metrics(), await direct.registry.metrics());
  t.match(await cached.registry.metrics(), /portcullis_requests_total\{route="orders",method="GET",status="200",decision="allow"\} 3/);
});

void t.test('still counts after the metric is reset (cached children stay valid)', async (t) => {
  const m = new GatewayMetrics({ defaultMetrics: false });
  const rm = new RequestMetrics(m);
  rm.record('r', 'GET', 200, 'allow', 0.001, null);
  m.requestsTotal.reset();
  rm.record('r', 'GET', 200, 'allow', 0.001, null);
  t.match(await m.registry.metrics(), /portcullis_requests_total\{route="r",method="GET",status="200",decision="allow"\} 1\n/);
});
