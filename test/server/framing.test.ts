/**
 * Request smuggling and malformed framing (issue 2): each ambiguous or
 * malformed request is refused with 400 and nothing reaches the upstream.
 */
import t from 'tap';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/raw-http.js';

let up: RecordingUpstream;
let gw: TestGateway;

t.before(async () => {
  up = await startUpstream();
  gw = await startGateway({ routes: [{ name: 'all', match: { path: '/' }, auth: 'none', upstream: up.url }] });
});
t.teardown(async () => {
  await gw.close();
  await up.close();
});

const cases: [string, string][] = [
  ['Content-Length with Transfer-Encoding',
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['two differing Content-Lengths', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde'],
  ['obs-fold header continuation', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n'],
  ['bare LF line endings', 'GET / HTTP/1.1\nHost: h\n\n'],
  ['a bad Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n'],
  ['a missing Host', 'GET / HTTP/1.1\r\n\r\n'],
  ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
  ['a space in the header name', 'GET / HTTP/1.1\r\nHost: h\r\nX-A : b\r\n\r\n'],
  ['a NUL in a header value', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u0000b\r\n\r\n'],
  ['a bad chunk size', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'],
];

for (const [name, payload] of cases) {
  void t.test(name, async (t) => {
    const before = up.received.length;
    const res = await rawRequest(gw.port, payload);
    t.equal(res.status, 400, 'answered 400');
    t.match(res.text, /"error":"bad_request","requestId":"[0-9a-f-]{36}"/, 'JSON denial with a request id');
    t.equal(up.received.length, before, 'nothing reached the upstream');
  });
}

void t.test('parser refusals are logged and counted', async (t) => {
  await new Promise((r) => setTimeout(r, 50));
  const lines = gw.access().filter((l) => l['decision'] === 'bad_request');
  t.ok(lines.length >= cases.length, `${lines.length} parser refusals logged`);
  const text = await gw.metrics.registry.getSingleMetricAsString('portcullis_requests_total');
  t.match(text, /status="400",decision="bad_request"/);
});

void t.test('CONNECT and unknown expectations get our JSON answer and a log line', async (t) => {
  const before = up.received.length;
  const connectRes = await rawRequest(gw.port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
  t.equal(connectRes.status, 405);
  t.match(connectRes.text, /"error":"method_not_allowed","requestId":"[0-9a-f-]{36}"/);
  const expect = await rawRequest(gw.port, 'POST / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx');
  t.equal(expect.status, 417);
  t.match(expect.text, /"error":"expectation_failed"/);
  t.equal(up.received.length, before);
  await new Promise((r) => setTimeout(r, 50));
  const statuses = gw.access().map((l) => l['status']);
  t.ok(statuses.includes(405) && statuses.includes(417), 'both logged');
});
