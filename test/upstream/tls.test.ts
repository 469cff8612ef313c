/**
 * https:// upstreams (issue 7): a custom CA, a client certificate, and server-name checking —
 * against the configured name or the target's host, never against the client's Host header.
 */
import t from 'tap';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/raw-http.js';
import { issue, makeCa, type CertFiles, tempDir } from '../helpers/certs.js';

interface Seen { host: string | undefined; sni: string | false; clientCert: string | null }

let dir: string;
let upstreamCa: CertFiles;
let clientCa: CertFiles;
let gatewayClient: CertFiles;

async function httpsUpstream(cert: CertFiles, mtls = false): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createHttpsServer({
    cert: cert.pem, key: await readFile(cert.key),
    ...(mtls ? { ca: clientCa.pem, requestCert: true, rejectUnauthorized: true } : {}),
  }, (req, res) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerX509Certificate?.();
    seen.push({ host: req.headers.host, sni: (socket as TLSSocket & { servername: string | false }).servername, clientCert: peer?.subject ?? null });
    res.end('secure upstream');
  });
  server.on('upgrade', (_req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.pipe(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

t.before(async () => {
  dir = await tempDir(t);
  upstreamCa = await makeCa(dir, 'upstream-ca');
  clientCa = await makeCa(dir, 'client-ca');
  gatewayClient = await issue(dir, 'gateway-client', clientCa, { subject: '/CN=portcullis', usage: 'client' });
});

async function gw(routes: unknown[]): Promise<TestGateway> {
  const g = await startGateway({ routes });
  t.teardown(() => g.close());
  return g;
}

async function get(g: TestGateway, path: string, host = 'api.example.test'): Promise<{ status: number; body: string }> {
  const res = await request(g.url + path, { headers: { host } });
  return { status: res.statusCode, body: await res.body.text() };
}

void t.test('custom CA and serverName: verified against the configured name, not the client Host', async (t) => {
  const up = await httpsUpstream(await issue(dir, 'orders', upstreamCa, { subject: '/CN=orders.internal', sans: 'DNS:orders.internal' }));
  let connections = 0;
  up.server.on('secureConnection', () => { connections++; });
  const g = await gw([
    { name: 'ok', match: { path: '/ok' }, auth: 'none', upstream: { targets: [up.url], tls: { ca: upstreamCa.cert, serverName: 'orders.internal' } } },
    { name: 'wrong-name', match: { path: '/wrong-name' }, auth: 'none', upstream: { targets: [up.url], tls: { ca: upstreamCa.cert, serverName: 'payments.internal' } } },
    { name: 'ip-name', match: { path: '/ip-name' }, auth: 'none', upstream: { targets: [up.url], tls: { ca: upstreamCa.cert } } },
    { name: 'system-ca', match: { path: '/system-ca' }, auth: 'none', upstream: { targets: [up.url], tls: { serverName: 'orders.internal' } } },
  ]);
  const ok = await get(g, '/ok');
  t.equal(ok.status, 200);
  t.equal(ok.body, 'secure upstream');
  t.same(up.seen[0], { host: 'api.example.test', sni: 'orders.internal', clientCert: null }, 'the client Host is forwarded; SNI is the configured name');
  // Several client Hosts: one fixed server name, so no reconnect per Host either.
  t.equal((await get(g, '/ok', 'other.example.test')).status, 200);
  t.equal((await get(g, '/ok')).status, 200);
  t.equal(connections, 1, 'one keep-alive connection whatever Host the clients send');
  t.equal((await get(g, '/wrong-name')).status, 502, 'a certificate for another name is refused');
  t.equal((await get(g, '/ip-name')).status, 502, 'an IP target is checked against IP SANs (this certificate has none)');
  t.equal((await get(g, '/system-ca')).status, 502, 'without ca the system roots do not know this CA');
  t.equal(up.seen.length, 3, 'refused connections never carried a request');
  const refused = g.logs.filter((l) => l['msg'] === 'upstream error' && l['route'] === 'wrong-name');
  t.equal(refused.length, 1);
  t.match(refused[0]!['err'], /does not match certificate's altnames/);
});

void t.test('an IP target with an IP SAN needs no serverName and sends no SNI', async (t) => {
  const up = await httpsUpstream(await issue(dir, 'by-ip', upstreamCa, { subject: '/CN=by-ip', sans: 'IP:127.0.0.1' }));
  const g = await gw([{ name: 'r', match: { path: '/' }, auth: 'none', upstream: { targets: [up.url], tls: { ca: upstreamCa.cert } } }]);
  t.equal((await get(g, '/x')).status, 200);
  t.equal(up.seen[0]!.sni, false, 'RFC 6066 §3: no IP literal in SNI');
});

void t.test('client certificate to an upstream that requires one', async (t) => {
  const up = await httpsUpstream(await issue(dir, 'mtls-up', upstreamCa, { subject: '/CN=orders.internal', sans: 'DNS:orders.internal' }), true);
  const tls = { ca: upstreamCa.cert, serverName: 'orders.internal' };
  const g = await gw([
    { name: 'with-cert', match: { path: '/with' }, auth: 'none', upstream: { targets: [up.url], tls: { ...tls, cert: gatewayClient.cert, key: gatewayClient.key } } },
    { name: 'without', match: { path: '/without' }, auth: 'none', upstream: { targets: [up.url], tls } },
  ]);
  t.equal((await get(g, '/with')).status, 200);
  t.equal(up.seen[0]!.clientCert, 'CN=portcullis');
  t.equal((await get(g, '/without')).status, 502);
});

void t.test('WebSocket upgrades to an https upstream use the same CA and server name', async (t) => {
  const up = await httpsUpstream(await issue(dir, 'ws-up', upstreamCa, { subject: '/CN=orders.internal', sans: 'DNS:orders.internal' }));
  const g = await gw([
    { name: 'ws', match: { path: '/ws' }, auth: 'none', websocket: true, upstream: { targets: [up.url], tls: { ca: upstreamCa.cert, serverName: 'orders.internal' } } },
    { name: 'ws-bad', match: { path: '/bad' }, auth: 'none', websocket: true, upstream: { targets: [up.url], tls: { ca: upstreamCa.cert, serverName: 'x.internal' } } },
  ]);
  const hs = (path: string) => `GET ${path} HTTP/1.1\r\nHost: api.example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
  t.equal((await rawRequest(g.port, hs('/ws'))).status, 101);
  t.equal((await rawRequest(g.port, hs('/bad'))).status, 502);
});

async function readyz(g: TestGateway): Promise<{ status: number; reasons: string[] }> {
  const res = await request(`${g.adminUrl!}/readyz`);
  const body = await res.body.json() as { reasons?: string[] };
  return { status: res.statusCode, reasons: body.reasons ?? [] };
}

void t.test('an unreadable CA: not ready, and requests fail closed with 502', async (t) => {
  const up = await httpsUpstream(await issue(dir, 'nr', upstreamCa, { subject: '/CN=orders.internal', sans: 'DNS:orders.internal' }));
  const g = await gw([{ name: 'r', match: { path: '/' }, auth: 'none', upstream: { targets: [up.url], tls: { ca: join(dir, 'missing-ca.crt'), serverName: 'orders.internal' } } }]);
  // The CA is read asynchronously: until that attempt ends /readyz says "loading". Poll (bounded)
  // for the outcome rather than guessing how long the read takes.
  let ready = await readyz(g);
  for (let i = 0; i < 250 && ready.reasons.some((r) => r.endsWith('loading CA and client certificate')); i++) {
    await new Promise((r) => setTimeout(r, 20));
    ready = await readyz(g);
  }
  t.equal(ready.status, 503);
  t.match(ready.reasons, [/upstream TLS of route r: cannot read CA bundle .*missing-ca\.crt: ENOENT/]);
  t.equal((await get(g, '/x')).status, 502);
  t.equal(up.seen.length, 0);
});
