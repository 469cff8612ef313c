/**
 * Request methods as labels (issue 22 item 3): an HTTP/2 client can put any token in :method.
 * Unknown ones are answered 400 at the edge (as forward-auth answers an unknown original method)
 * and, with every method outside the standard set, share one `method="other"` series; the access
 * log keeps the methods the gateway serves (Node's list) and writes `other` for the rest.
 */
import t from 'tap';
import { startUpstream } from '../helpers/upstream.js';
import { eventually, startGateway } from '../helpers/gateway.js';
import { h2Connect, h2Request, listenerPort, serverPki } from '../helpers/certs.js';
import { rawRequest } from '../helpers/raw-http.js';
import { LABELLED_METHODS, methodForLog, methodLabel } from '../../src/observe/method-label.js';
import { HTTP_METHODS } from '../../src/config/schema.js';

void t.test('the labelled methods are exactly the ones a route may match (config/schema.ts)', async (t) => {
  t.same([...LABELLED_METHODS].sort(), [...HTTP_METHODS].sort());
});

void t.test('labels and log values come from fixed sets', async (t) => {
  for (const m of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']) t.equal(methodLabel(m), m);
  t.equal(methodLabel('PROPFIND'), 'other', 'a WebDAV method is served but labelled other');
  t.equal(methodForLog('PROPFIND'), 'PROPFIND', 'and logged as itself');
  t.equal(methodLabel('get'), 'other', 'methods are case-sensitive (RFC 9110 §9.1)');
  t.equal(methodForLog('X'.repeat(8192)), 'other');
});

void t.test('HTTP/2: 500 distinct unknown methods → 400 each, one "other" series, bounded log field', async (t) => {
  const up = await startUpstream();
  const pki = await serverPki(t.testdir());
  const gw = await startGateway({
    listeners: { https: { host: '127.0.0.1', port: 0, cert: pki.server.cert, key: pki.server.key } },
    routes: [{ name: 'all', match: { path: '/' }, auth: 'none', upstream: up.url }],
  });
  t.teardown(async () => { await gw.close(); await up.close(); });
  const session = await h2Connect(listenerPort(gw.runtime, 'https'), { ca: pki.ca.pem });
  t.teardown(() => session.close());
  const statuses = new Set<number>();
  for (let i = 0; i < 500; i++) {
    const r = await h2Request(session, '/x', { method: `M${i}${'X'.repeat(1000)}` });
    statuses.add(r.status);
    if (i === 0) t.match(JSON.parse(r.body), { error: 'bad_request' }, 'the JSON denial body');
  }
  t.same([...statuses], [400], 'every unknown method is answered 400');
  const ok = await h2Request(session, '/x');
  t.equal(ok.status, 200, 'a GET on the same session still passes');
  const dav = await h2Request(session, '/x', { method: 'PROPFIND' });
  t.equal(dav.status, 200, 'a method Node knows (WebDAV) is served, as over HTTP/1.1');
  t.equal(up.received.filter((r) => r.method.startsWith('M')).length, 0, 'no unknown method reached the upstream');
  const text = await gw.metrics.registry.getSingleMetricAsString('portcullis_requests_total');
  const series = text.split('\n').filter((l) => l.startsWith('portcullis_requests_total{'));
  t.same(series.map((l) => /method="([^"]*)"/.exec(l)![1]).sort(), ['GET', 'other', 'other'], `three series: ${JSON.stringify(series)}`);
  t.ok(series.some((l) => l.includes('method="other",status="400",decision="bad_request"} 500')), 'the 500 unknown methods are one series');
  t.ok(series.some((l) => l.includes('method="other",status="200",decision="allow"} 1')), 'PROPFIND is labelled other');
  t.ok(text.length < 2_000, `the exposition stays small (${text.length} bytes)`);
  t.ok(await eventually(() => gw.access().length >= 502));
  const methods = new Set(gw.access().map((l) => l['method']));
  t.same([...methods].sort(), ['GET', 'PROPFIND', 'other'], 'the access log writes other for the unknown ones');
});

void t.test('HTTP/1.1: Node\'s parser already refuses an unknown method (400), so both protocols agree', async (t) => {
  const up = await startUpstream();
  const gw = await startGateway({ routes: [{ name: 'all', match: { path: '/' }, auth: 'none', upstream: up.url }] });
  t.teardown(async () => { await gw.close(); await up.close(); });
  const r = await rawRequest(gw.port, 'FOO /x HTTP/1.1\r\nHost: h\r\n\r\n');
  t.equal(r.status, 400);
  t.equal(up.received.length, 0);
});
