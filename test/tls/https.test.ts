/**
 * The HTTPS listener end to end (issue 7): HTTP/2 by ALPN and HTTP/1.1 on the same port through
 * the whole pipeline, HSTS on every HTTPS answer, SNI, and the TLS versions and ciphers refused.
 */
import t from 'tap';
import { connect as tlsConnect, createServer as createTlsServer, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { eventually, startGateway, type TestGateway } from '../helpers/gateway.js';
import { h1Request, h2Connect, h2Request, issue, listenerPort, serverPki, type CertFiles, tempDir } from '../helpers/certs.js';

const HSTS = 'max-age=31536000; includeSubDomains';
let up: RecordingUpstream;
let gw: TestGateway;
let ca: CertFiles;
let port: number;

t.before(async () => {
  const dir = await tempDir(t);
  const pki = await serverPki(dir);
  ca = pki.ca;
  const sni = await issue(dir, 'sni', ca, { subject: '/CN=api.example.test', sans: 'DNS:api.example.test' });
  const wild = await issue(dir, 'wild', ca, { subject: '/CN=*.wild.example.test', sans: 'DNS:*.wild.example.test' });
  up = await startUpstream((req, res, rec) => {
    const body = JSON.stringify({ url: rec.url, body: rec.body });
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    if (req.url?.includes('sts=upstream')) headers['strict-transport-security'] = 'max-age=0';
    res.writeHead(200, headers);
    res.end(body);
  });
  gw = await startGateway({
    listeners: {
      http: { host: '127.0.0.1', port: 0 },
      https: {
        host: '127.0.0.1', port: 0, cert: pki.server.cert, key: pki.server.key, hsts: HSTS,
        certificates: [{ hosts: ['api.example.test'], cert: sni.cert, key: sni.key }, { hosts: ['*.wild.example.test'], cert: wild.cert, key: wild.key }],
      },
    },
    routes: [
      { name: 'public', match: { path: '/public' }, auth: 'none', upstream: up.url },
      { name: 'secure', match: { path: '/secure' }, upstream: up.url },
    ],
  });
  port = listenerPort(gw.runtime, 'https');
});
t.teardown(async () => {
  await gw.close();
  await up.close();
});

void t.test('HTTP/2: forwarded through the pipeline, no pseudo-headers upstream, Host from :authority', async (t) => {
  const session = await h2Connect(port, { ca: ca.pem });
  t.teardown(() => session.close());
  const before = up.received.length;
  const res = await h2Request(session, '/public/a/../b?x=1', { headers: { cookie: 'a=1', 'user-agent': 'h2-test' } });
  t.equal(res.alpn, 'h2');
  t.equal(res.status, 200);
  t.equal(res.headers['strict-transport-security'], HSTS);
  t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/);
  t.equal(res.headers['connection'], undefined);
  const rec = up.received[before]!;
  t.equal(rec.url, '/public/b?x=1', 'normalised path and query');
  t.notOk(rec.rawHeaders.some((h) => h.startsWith(':')), 'no pseudo-header reached the upstream');
  t.equal(rec.headers.host, `localhost:${port}`, 'Host built from :authority');
  t.equal(rec.headers['x-forwarded-proto'], 'https');
  t.equal(rec.headers['x-forwarded-host'], `localhost:${port}`);
  t.ok(await eventually(() => gw.access().some((l) => l['requestId'] === res.headers['x-request-id'])));
  const line = gw.access().find((l) => l['requestId'] === res.headers['x-request-id'])!;
  t.equal(line['tls'], 'TLSv1.3');
  t.equal(line['protocol'], 'HTTP/2');
  t.equal(line['host'], 'localhost');
  t.equal(line['status'], 200);
});

void t.test('HTTP/2: a body without content-length reaches the upstream; cookie crumbs become one Cookie', async (t) => {
  const session = await h2Connect(port, { ca: ca.pem });
  t.teardown(() => session.close());
  const before = up.received.length;
  // A binary type: the WAF (on by default) streams it uninspected, so its length stays unknown.
  const stream = session.request({ ':method': 'POST', ':path': '/public/upload', cookie: 'a=1', 'content-type': 'application/octet-stream' }, { endStream: false });
  // Two cookie fields, as RFC 9113 §8.2.3 lets a client send them.
  const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    let status = 0;
    let body = '';
    stream.on('response', (h) => { status = Number(h[':status']); });
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => { body += c; });
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', reject);
    stream.write('hello ');
    stream.end('world');
  });
  t.equal(res.status, 200);
  t.equal(JSON.parse(res.body).body, 'hello world');
  const rec = up.received[before]!;
  // Streamed chunked, or — when the whole body was already in when the request started (an
  // HTTP/2 request starts one turn after its HEADERS, issue 21) and the WAF read it all — sent
  // with the Content-Length now known. Never both.
  const framing = rec.headers['transfer-encoding'] === 'chunked' ? 'chunked' : rec.headers['content-length'];
  t.ok(framing === 'chunked' || framing === '11', `one framing: ${JSON.stringify(framing)}`);
  t.ok(rec.headers['content-length'] === undefined || rec.headers['transfer-encoding'] === undefined, 'never both');

  const crumbs = await new Promise<number>((resolve, reject) => {
    const s = session.request({ ':method': 'GET', ':path': '/public/c', cookie: ['a=1', 'b=2'] });
    s.on('response', (h) => resolve(Number(h[':status'])));
    s.on('error', reject);
    s.resume();
  });
  t.equal(crumbs, 200);
  const cookies = up.received.at(-1)!.rawHeaders.filter((_, i, a) => i % 2 === 0 && a[i]!.toLowerCase() === 'cookie');
  t.equal(cookies.length, 1, 'one Cookie field upstream');
  t.equal(up.received.at(-1)!.headers.cookie, 'a=1; b=2');
});

void t.test('HTTP/1.1 over TLS on the same port', async (t) => {
  const before = up.received.length;
  const res = await h1Request(port, '/public/one', { ca: ca.pem });
  t.equal(res.status, 200);
  t.equal(res.tls, 'TLSv1.3');
  t.equal(res.headers['strict-transport-security'], HSTS);
  t.equal(up.received[before]!.headers['x-forwarded-proto'], 'https');
  t.equal(up.received[before]!.headers.host, 'localhost');
  const id = res.headers['x-request-id'];
  t.ok(await eventually(() => gw.access().some((l) => l['requestId'] === id)));
  t.equal(gw.access().find((l) => l['requestId'] === id)!['protocol'], 'HTTP/1.1');
});

void t.test('denials carry HSTS too, on both protocols; an upstream STS is replaced by the listener\'s', async (t) => {
  const h1 = await h1Request(port, '/secure/x', { ca: ca.pem });
  t.equal(h1.status, 401);
  t.equal(h1.headers['strict-transport-security'], HSTS);
  const session = await h2Connect(port, { ca: ca.pem });
  t.teardown(() => session.close());
  const h2 = await h2Request(session, '/nothing');
  t.equal(h2.status, 404);
  t.equal(h2.headers['strict-transport-security'], HSTS);
  t.same(JSON.parse(h2.body), { error: 'not_found', requestId: h2.headers['x-request-id'] });
  const replaced = await h2Request(session, '/public/x?sts=upstream');
  t.equal(replaced.headers['strict-transport-security'], HSTS, 'one STS field, the listener\'s (RFC 6797 §6.1)');
  const plain = await fetch(`${gw.url}/public/x`);
  t.equal(plain.headers.get('strict-transport-security'), null, 'never over plain HTTP (RFC 6797 §7.2)');
});

void t.test('HTTP/2: :authority and Host must agree and be well-formed', async (t) => {
  const session = await h2Connect(port, { ca: ca.pem });
  t.teardown(() => session.close());
  const before = up.received.length;
  const mismatch = await h2Request(session, '/public/x', { headers: { ':authority': `localhost:${port}`, host: 'evil.example' } });
  t.equal(mismatch.status, 400);
  const same = await h2Request(session, '/public/x', { headers: { ':authority': `localhost:${port}`, host: `LOCALHOST:${port}` } });
  t.equal(same.status, 200);
  // Node's client sends Host instead of :authority when given one: that alone is a valid authority.
  const hostOnly = await h2Request(session, '/public/x', { headers: { host: 'api.example.test' } });
  t.equal(hostOnly.status, 200);
  t.equal(up.received.at(-1)!.headers.host, 'api.example.test');
  t.equal(up.received.length, before + 2, 'only the consistent requests were forwarded');
});

function handshake(options: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect(options, () => resolve(s));
    s.once('error', reject);
  });
}

void t.test('SNI picks the certificate: exact name, one-label wildcard, else the default', async (t) => {
  for (const [servername, cn] of [['api.example.test', 'api.example.test'], ['a.wild.example.test', '*.wild.example.test'], ['other.test', 'localhost']] as const) {
    const s = await handshake({ host: '127.0.0.1', port, servername, ca: ca.pem, rejectUnauthorized: false });
    t.equal(s.getPeerX509Certificate()!.subject, `CN=${cn}`, servername);
    s.destroy();
  }
});

void t.test('TLS 1.0 and 1.1 are refused by the listener, not just by this client', async (t) => {
  const old = { host: '127.0.0.1', minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0', rejectUnauthorized: false } as const;
  // Control: the same client completes a TLS 1.1 handshake with a server that allows it.
  const dir = await tempDir(t);
  const self = await issue(dir, 'old', null, { subject: '/CN=localhost' });
  const lenient = createTlsServer({ cert: self.pem, key: await import('node:fs/promises').then((f) => f.readFile(self.key)), minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.end());
  await new Promise<void>((r) => lenient.listen(0, '127.0.0.1', r));
  t.teardown(() => lenient.close());
  const ok = await handshake({ ...old, port: (lenient.address() as AddressInfo).port });
  t.equal(ok.getProtocol(), 'TLSv1.1', 'the client can speak TLS 1.1 here');
  ok.destroy();
  await t.rejects(handshake({ ...old, port }), /version|protocol/i, 'the gateway refuses it');
  await t.rejects(handshake({ ...old, maxVersion: 'TLSv1', port }), /version|protocol/i);
  t.match(await gw.metrics.registry.metrics(), /portcullis_tls_handshake_failures_total\{reason="protocol_version"\} [1-9]/);
});

void t.test('TLS 1.2 offers ECDHE with AEAD ciphers only', async (t) => {
  const s = await handshake({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.pem, maxVersion: 'TLSv1.2' });
  t.equal(s.getProtocol(), 'TLSv1.2');
  t.match(s.getCipher().name, /^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM|CHACHA20-POLY1305)/);
  s.destroy();
  await t.rejects(handshake({ host: '127.0.0.1', port, ca: ca.pem, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:AES128-GCM-SHA256' }), /cipher|handshake|alert/i, 'CBC and static-RSA suites are not offered');
});

void t.test('a WebSocket upgrade over HTTP/1.1-on-TLS is proxied', async (t) => {
  const { createServer } = await import('node:http');
  const wsUp = createServer((_req, res) => res.end('plain'));
  wsUp.on('upgrade', (req, socket) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Proto: ${String(req.headers['x-forwarded-proto'])}\r\n\r\n`);
    socket.pipe(socket);
  });
  await new Promise<void>((r) => wsUp.listen(0, '127.0.0.1', r));
  t.teardown(() => { wsUp.closeAllConnections(); wsUp.close(); });
  const pki = await serverPki(await tempDir(t));
  const g = await startGateway({
    listeners: { http: { host: '127.0.0.1', port: 0 }, https: { host: '127.0.0.1', port: 0, cert: pki.server.cert, key: pki.server.key } },
    routes: [{ name: 'ws', match: { path: '/ws' }, auth: 'none', websocket: true, upstream: `http://127.0.0.1:${(wsUp.address() as AddressInfo).port}` }],
  });
  t.teardown(() => g.close());
  const s = await handshake({ host: '127.0.0.1', port: listenerPort(g.runtime, 'https'), servername: 'localhost', ca: pki.ca.pem, ALPNProtocols: ['http/1.1'] });
  const text = await new Promise<string>((resolve) => {
    let got = '';
    let timer: NodeJS.Timeout;
    s.on('data', (c: Buffer) => {
      const first = got === '';
      got += c.toString('latin1');
      if (first && got.startsWith('HTTP/1.1 101')) s.write('ping-over-tls');
      clearTimeout(timer);
      timer = setTimeout(() => { s.destroy(); resolve(got); }, 200);
    });
    s.write('GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  });
  t.match(text, /^HTTP\/1\.1 101 /);
  t.match(text, /X-Proto: https/i);
  t.match(text, /ping-over-tls$/);
});
