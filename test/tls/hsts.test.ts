/**
 * HSTS on every answer of the HTTPS listener (issue 7, RFC 6797 §7.1), including the ones that
 * never reach the pipeline's request handler: CONNECT (405), an unknown Expect (417), WebSocket
 * denials, relayed upgrade answers and their 502, and parser errors. Parser-error log lines
 * carry `tls` and `protocol` as every access-log line does.
 */
import t from 'tap';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { eventually, startGateway, type TestGateway } from '../helpers/gateway.js';
import { rawRequest, rawTlsRequest } from '../helpers/raw-http.js';
import { h2Connect, listenerPort, serverPki, tempDir, type CertFiles } from '../helpers/certs.js';

const HSTS = 'max-age=600; includeSubDomains';
let up: RecordingUpstream;
let wsUp: Server;
let gw: TestGateway;
let ca: CertFiles;
let port: number;

t.before(async () => {
  const pki = await serverPki(await tempDir(t));
  ca = pki.ca;
  up = await startUpstream();
  // A WebSocket upstream with an STS field of its own; a plain answer on /ws/plain.
  wsUp = createServer((_req, res) => {
    res.writeHead(426, { 'strict-transport-security': 'max-age=0', 'content-length': 0 });
    res.end();
  });
  wsUp.on('upgrade', (req, socket) => {
    if (req.url?.startsWith('/ws/plain')) {
      socket.end('HTTP/1.1 426 Upgrade Required\r\nStrict-Transport-Security: max-age=0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nStrict-Transport-Security: max-age=0\r\n\r\n');
    socket.pipe(socket);
  });
  await new Promise<void>((r) => wsUp.listen(0, '127.0.0.1', r));
  const wsUrl = `http://127.0.0.1:${(wsUp.address() as AddressInfo).port}`;
  // A port nothing listens on: the upgrade's upstream fails (502).
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((r) => closed.close(() => r()));
  gw = await startGateway({
    server: { limits: { maxHeaderBytes: 2048 } },
    listeners: {
      http: { host: '127.0.0.1', port: 0 },
      https: { host: '127.0.0.1', port: 0, cert: pki.server.cert, key: pki.server.key, hsts: HSTS },
    },
    routes: [
      { name: 'ws', match: { path: '/ws' }, auth: 'none', websocket: true, upstream: wsUrl },
      { name: 'ws-dead', match: { path: '/dead' }, auth: 'none', websocket: true, upstream: deadUrl },
      { name: 'ws-secure', match: { path: '/ws-secure' }, websocket: true, upstream: wsUrl },
      { name: 'plain', match: { path: '/plain' }, auth: 'none', upstream: up.url },
    ],
  });
  port = listenerPort(gw.runtime, 'https');
});
t.teardown(async () => {
  await gw.close();
  await up.close();
  wsUp.closeAllConnections();
  wsUp.close();
});

/** Raw bytes over a new TLS connection (HTTP/1.1 by ALPN); everything answered until close or quiet. */
const tlsRaw = async (payload: string, quietMs = 300): Promise<string> => (await rawTlsRequest(port, payload, { ca: ca.pem, quietMs })).text;

/** The values of one header field in a raw HTTP/1.1 head. */
function fields(text: string, name: string): string[] {
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  return head.split('\r\n').slice(1).filter((l) => l.toLowerCase().startsWith(name + ':')).map((l) => l.slice(name.length + 1).trim());
}

const upgrade = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;

void t.test('CONNECT: 405 with HSTS on HTTP/1.1 and HTTP/2', async (t) => {
  const h1 = await tlsRaw('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
  t.match(h1, /^HTTP\/1\.1 405 /);
  t.same(fields(h1, 'strict-transport-security'), [HSTS]);
  const session = await h2Connect(port, { ca: ca.pem });
  t.teardown(() => session.close());
  const h2 = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const stream = session.request({ ':method': 'CONNECT', ':authority': 'example.com:443' });
    stream.on('response', (h) => { resolve(h); stream.close(); });
    stream.on('error', reject);
  });
  t.equal(h2[':status'], 405);
  t.equal(h2['strict-transport-security'], HSTS);
  t.ok(typeof h2['allow'] === 'string' && h2['allow'] === fields(h1, 'allow')[0], 'Allow on both (RFC 9110 §15.5.6)');
});

void t.test('Expect other than 100-continue: 417 with HSTS on HTTP/1.1 and HTTP/2', async (t) => {
  const h1 = await tlsRaw('POST /plain/x HTTP/1.1\r\nHost: localhost\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\nhi');
  t.match(h1, /^HTTP\/1\.1 417 /);
  t.same(fields(h1, 'strict-transport-security'), [HSTS]);
  const session = await h2Connect(port, { ca: ca.pem });
  t.teardown(() => session.close());
  const h2 = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const stream = session.request({ ':method': 'GET', ':path': '/plain/x', expect: 'teapot' });
    stream.on('response', (h) => resolve(h));
    stream.on('error', reject);
    stream.resume();
  });
  t.equal(h2[':status'], 417);
  t.equal(h2['strict-transport-security'], HSTS);
});

void t.test('WebSocket: denials, the relayed 101 and non-upgrade answer, and the 502 carry one HSTS field', async (t) => {
  for (const [path, status] of [['/nowhere', 404], ['/plain/x', 403], ['/ws-secure', 401], ['/dead', 502]] as const) {
    const text = await tlsRaw(upgrade(path));
    t.match(text, new RegExp(`^HTTP/1\\.1 ${status} `), `${path}: ${status}`);
    t.same(fields(text, 'strict-transport-security'), [HSTS], `${path}: HSTS`);
  }
  const ok = await tlsRaw(upgrade('/ws'));
  t.match(ok, /^HTTP\/1\.1 101 /);
  t.same(fields(ok, 'strict-transport-security'), [HSTS], 'the upstream\'s own STS replaced on the 101');
  const plain = await tlsRaw(upgrade('/ws/plain'));
  t.match(plain, /^HTTP\/1\.1 426 /);
  t.same(fields(plain, 'strict-transport-security'), [HSTS], 'and on an upstream answer that is no upgrade');
  // Never over plain HTTP (RFC 6797 §7.2): the same denial on the plain listener.
  const clear = await rawRequest(gw.port, upgrade('/nowhere'));
  t.equal(clear.status, 404);
  t.same(fields(clear.text, 'strict-transport-security'), []);
  const clearOk = await rawRequest(gw.port, upgrade('/ws'));
  t.equal(clearOk.status, 101);
  t.same(fields(clearOk.text, 'strict-transport-security'), ['max-age=0'], 'the plain listener relays the upstream\'s as it is');
});

void t.test('parser errors: HSTS over TLS, and their log lines carry tls and protocol', async (t) => {
  const bad = await tlsRaw('GET /plain/x HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n');
  t.match(bad, /^HTTP\/1\.1 400 /);
  t.same(fields(bad, 'strict-transport-security'), [HSTS]);
  const big = await tlsRaw(`GET /plain/x HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`);
  t.match(big, /^HTTP\/1\.1 431 /);
  t.same(fields(big, 'strict-transport-security'), [HSTS]);
  const old = await tlsRaw('GET /plain/x HTTP/1.0\r\nHost: localhost\r\nBad Header: x\r\n\r\n');
  t.match(old, /^HTTP\/1\.1 400 /);
  const clear = await rawRequest(gw.port, 'GET /plain/x HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n');
  t.equal(clear.status, 400);
  t.same(fields(clear.text, 'strict-transport-security'), [], 'never over plain HTTP');

  const idOf = (text: string) => fields(text, 'x-request-id')[0];
  const lineOf = (text: string) => gw.access().find((l) => l['requestId'] === idOf(text));
  t.ok(await eventually(() => [bad, big, old, clear.text].every((x) => lineOf(x) !== undefined)), 'each one logged');
  t.match(lineOf(bad), { status: 400, decision: 'bad_request', tls: 'TLSv1.3', protocol: 'HTTP/1.1', parserError: String });
  t.match(lineOf(big), { status: 431, tls: 'TLSv1.3', protocol: 'HTTP/1.1', parserError: 'HPE_HEADER_OVERFLOW' });
  t.match(lineOf(old), { status: 400, tls: 'TLSv1.3', protocol: 'HTTP/1.0' });
  t.match(lineOf(clear.text), { status: 400, tls: null, protocol: 'HTTP/1.1' });
  // The same field set as a pipeline line: nothing a log consumer expects is missing.
  const pipelineLine = gw.access().find((l) => l['parserError'] === undefined);
  if (pipelineLine !== undefined) {
    for (const key of Object.keys(pipelineLine)) t.ok(key in lineOf(bad)!, `parser-error line has ${key}`);
  } else {
    t.fail('no pipeline access line to compare with');
  }
});
