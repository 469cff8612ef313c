/**
 * RFC 9112 §6.1, the request-smuggling class (pipeline/framing.ts): a Transfer-Encoding other
 * than one lone `chunked` is refused 400 in both shapes, on raw sockets against a real gateway
 * and a real recording upstream. Each payload carries a second request after the last chunk, as
 * a front hop that framed the body differently would have passed it along: neither shape may
 * serve it, and the upstream must see nothing. The lone `chunked` twin shows the same bytes are
 * forwarded (both requests) when the framing is sound, so the refusals are not the rig's doing.
 */
import t from 'tap';
import type { AddressInfo } from 'node:net';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { eventually, startGateway, type TestGateway } from '../helpers/gateway.js';
import { rawRequest, statusLines } from '../helpers/raw-http.js';

let up: RecordingUpstream;
let gw: TestGateway;
let authPort: number;

t.before(async () => {
  up = await startUpstream();
  gw = await startGateway({
    server: { trustedProxies: ['127.0.0.1/32'] },
    listeners: { http: { host: '127.0.0.1', port: 0 }, auth: { host: '127.0.0.1', port: 0 } },
    routes: [{ name: 'all', match: { path: '/' }, auth: 'none', upstream: up.url }],
  });
  authPort = (gw.runtime.listeners.find((l) => l.name === 'auth')!.server.address() as AddressInfo).port;
});
t.teardown(async () => {
  await gw.close();
  await up.close();
});

/** A chunked body `hello`, then a whole second request: the smuggled bytes. */
const TAIL = '5\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n';

const REFUSED: [string, string][] = [
  ['gzip, chunked', 'Transfer-Encoding: gzip, chunked'],
  ['identity, chunked', 'Transfer-Encoding: identity, chunked'],
  ['chunked, identity', 'Transfer-Encoding: chunked, identity'],
  ['identity', 'Transfer-Encoding: identity'],
  ['gzip', 'Transfer-Encoding: gzip'],
  ['a parameter on chunked', 'Transfer-Encoding: chunked;q=1'],
  ['two field lines, gzip then chunked', 'Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked'],
  ['two field lines of chunked', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked'],
  ['chunked with Content-Length', 'Transfer-Encoding: chunked\r\nContent-Length: 5'],
  ['Content-Length with gzip, chunked', 'Content-Length: 5\r\nTransfer-Encoding: gzip, chunked'],
];

/** The three ways a request reaches the gateway: the edge, and two forward-auth endpoints. */
const SHAPES: [string, () => number, string, string][] = [
  ['edge', () => gw.port, '/x', ''],
  ['forward-auth /envoy', () => authPort, '/envoy/x', ''],
  // NGINX's 403 + X-Auth-Status mapping is for the original request; a bad caller request is a plain 400.
  ['forward-auth /nginx', () => authPort, '/nginx', 'X-Original-URI: /x\r\nX-Original-Method: POST\r\n'],
];


for (const [shape, port, path, extra] of SHAPES) {
  for (const [name, fields] of REFUSED) {
    void t.test(`${shape}: ${name} → 400, nothing served after it`, async (t) => {
      const received = up.received.length;
      const logged = gw.access().length;
      const res = await rawRequest(port(), `POST ${path} HTTP/1.1\r\nHost: h\r\n${extra}${fields}\r\n\r\n${TAIL}`);
      t.equal(res.status, 400, 'answered 400');
      t.match(res.text, /\r\n\r\n\{"error":"bad_request","requestId":"[0-9a-f-]{36}"\}$/, "the contract's JSON denial, whole");
      t.match(res.text, /\r\nconnection: close\r\n/i, 'the connection closes');
      t.same(statusLines(res.text), ['HTTP/1.1 400'], 'one answer: the smuggled request got none');
      t.equal(up.received.length, received, 'the upstream saw nothing');
      await new Promise((r) => setTimeout(r, 50));
      const paths = gw.access().slice(logged).map((l) => l['path']);
      t.notOk(paths.includes('/smuggled'), 'the smuggled request was not run');
    });
  }

  void t.test(`${shape}: HTTP/1.0 with Transfer-Encoding → 400 (faulty framing, RFC 9112 §6.1)`, async (t) => {
    const received = up.received.length;
    const res = await rawRequest(port(), `POST ${path} HTTP/1.0\r\nHost: h\r\n${extra}Transfer-Encoding: chunked\r\n\r\n${TAIL}`);
    t.equal(res.status, 400);
    t.match(res.text, /"error":"bad_request"/);
    t.same(statusLines(res.text), ['HTTP/1.1 400']);
    t.equal(up.received.length, received);
  });
}

void t.test('edge: a lone chunked (any case) is forwarded, and the pipelined request after it too', async (t) => {
  for (const coding of ['chunked', 'Chunked']) {
    const received = up.received.length;
    const res = await rawRequest(gw.port, `POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ${coding}\r\n\r\n${TAIL}`);
    t.same(statusLines(res.text), ['HTTP/1.1 200', 'HTTP/1.1 200'], coding);
    t.ok(await eventually(() => up.received.length === received + 2), 'both requests reached the upstream');
    const got = up.received.slice(received).map((r) => `${r.method} ${r.url} ${r.body}`).sort();
    t.same(got, ['GET /smuggled ', 'POST /x hello']);
  }
});

void t.test('forward-auth: a lone chunked is decided (200), not refused', async (t) => {
  // A check request's body is never read, so the answer closes the connection (Exchange.respond).
  const res = await rawRequest(authPort, 'POST /envoy/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
  t.same(statusLines(res.text), ['HTTP/1.1 200']);
});
