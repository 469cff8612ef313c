/**
 * An Upgrade offer that is not WebSocket is ignored (RFC 9110 §7.8; server/upgrade.ts): the
 * request is served as an ordinary HTTP/1.1 request — its body framed, the connection kept
 * alive for the next request — and neither Upgrade nor HTTP2-Settings reaches the upstream.
 * On plain HTTP and on HTTPS (HTTP/1.1 by ALPN, on the HTTP/2-enabled listener). The WebSocket
 * twin shows offers of `websocket` still reach the WebSocket handler.
 */
import t, { type Test } from 'tap';
import type { AddressInfo } from 'node:net';
import { startUpstream, type Received, type RecordingUpstream } from '../helpers/upstream.js';
import { eventually, startGateway, type TestGateway } from '../helpers/gateway.js';
import { rawRequest, rawTlsRequest, statusLines, type RawResponse } from '../helpers/raw-http.js';
import { serverPki, tempDir, type CertFiles } from '../helpers/certs.js';

let up: RecordingUpstream;
let gw: TestGateway;
let ca: CertFiles;
let httpsPort: number;

t.before(async () => {
  const pki = await serverPki(await tempDir(t));
  ca = pki.ca;
  up = await startUpstream();
  gw = await startGateway({
    listeners: {
      http: { host: '127.0.0.1', port: 0 },
      https: { host: '127.0.0.1', port: 0, cert: pki.server.cert, key: pki.server.key, http2: true },
    },
    routes: [{ name: 'all', match: { path: '/' }, auth: 'none', upstream: up.url }],
  });
  httpsPort = (gw.runtime.listeners.find((l) => l.name === 'https')!.server.address() as AddressInfo).port;
});
t.teardown(async () => {
  await gw.close();
  await up.close();
});

const H2C = 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n';
const statuses = (r: RawResponse): string[] => statusLines(r.text);

/** What the upstream got from one exchange, once it arrived. */
async function receivedSince(before: number, count = 1): Promise<Received[]> {
  await eventually(() => up.received.length >= before + count);
  return up.received.slice(before);
}

function noOffer(t: Test, rec: Received | undefined): void {
  t.ok(rec, 'reached the upstream');
  t.equal(rec?.headers['upgrade'], undefined, 'no Upgrade upstream');
  t.equal(rec?.headers['http2-settings'], undefined, 'no HTTP2-Settings upstream');
  t.notMatch(String(rec?.headers['connection'] ?? ''), /upgrade/i, 'no upgrade token in Connection');
}

void t.test('h2c on GET: served as HTTP/1.1 (200 from the upstream), not refused', async (t) => {
  const before = up.received.length;
  const res = await rawRequest(gw.port, `GET /plain?x=1 HTTP/1.1\r\nHost: h\r\n${H2C}X-Keep: yes\r\n\r\n`);
  t.same(statuses(res), ['HTTP/1.1 200'], 'the upstream answer, no 101 and no 400');
  t.match(res.text, /"url":"\/plain\?x=1"/);
  const [rec] = await receivedSince(before);
  noOffer(t, rec);
  t.equal(rec?.headers['x-keep'], 'yes', 'the other fields go along');
  t.equal(rec?.method, 'GET');
});

void t.test('h2c with a body: Content-Length and chunked bodies are framed and forwarded', async (t) => {
  const before = up.received.length;
  const sized = await rawRequest(gw.port, `POST /form HTTP/1.1\r\nHost: h\r\n${H2C}Content-Length: 11\r\n\r\nhello world`);
  t.same(statuses(sized), ['HTTP/1.1 200']);
  const chunked = await rawRequest(gw.port, `POST /form HTTP/1.1\r\nHost: h\r\n${H2C}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`);
  t.same(statuses(chunked), ['HTTP/1.1 200']);
  const recs = await receivedSince(before, 2);
  t.same(recs.map((r) => r.body), ['hello world', 'hello world'], 'both bodies whole');
  for (const r of recs) noOffer(t, r);
});

void t.test('h2c keeps the connection: a pipelined request after it is answered too', async (t) => {
  const before = up.received.length;
  const res = await rawRequest(gw.port, `GET /first HTTP/1.1\r\nHost: h\r\n${H2C}\r\nGET /second HTTP/1.1\r\nHost: h\r\n\r\n`);
  t.same(statuses(res), ['HTTP/1.1 200', 'HTTP/1.1 200']);
  t.same((await receivedSince(before, 2)).map((r) => r.url), ['/first', '/second']);
});

void t.test('an Upgrade without Connection: upgrade is an ordinary request; the field is not forwarded', async (t) => {
  const before = up.received.length;
  const res = await rawRequest(gw.port, 'GET /bare HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n');
  t.same(statuses(res), ['HTTP/1.1 200']);
  noOffer(t, (await receivedSince(before))[0]);
});

void t.test('over HTTPS (HTTP/1.1): another Upgrade offer is served the same way', async (t) => {
  const before = up.received.length;
  const res = await rawTlsRequest(httpsPort, 'GET /tls HTTP/1.1\r\nHost: localhost\r\nConnection: upgrade\r\nUpgrade: foo/2\r\n\r\n', { ca: ca.pem });
  t.same(statuses(res), ['HTTP/1.1 200']);
  noOffer(t, (await receivedSince(before))[0]);
});

void t.test('each is logged once, as the request it is', async (t) => {
  await new Promise((r) => setTimeout(r, 50));
  const paths = gw.access().map((l) => `${String(l['path'])}:${String(l['status'])}`);
  for (const p of ['/plain:200', '/first:200', '/second:200', '/bare:200', '/tls:200']) t.equal(paths.filter((x) => x === p).length, 1, p);
});

void t.test('twin: a WebSocket offer still goes to the WebSocket handler (this route does not allow it: 403)', async (t) => {
  const before = up.received.length;
  const res = await rawRequest(gw.port, 'GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  t.same(statuses(res), ['HTTP/1.1 403']);
  t.match(res.text, /"error":"websocket_not_allowed"/);
  t.equal(up.received.length, before);
});
