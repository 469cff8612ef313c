/**
 * WebSocket upgrades: proxied only on routes with `websocket: true`, after
 * the same pipeline as any request; the upstream sees sanitised headers.
 */
import t from 'tap';
import { createServer, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startGateway } from '../helpers/gateway.js';

const HANDSHAKE = (path: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;

/** Sends the handshake, then `payload` once upgraded; resolves with all bytes read until `quietMs` of silence. */
function upgradeAndEcho(port: number, handshake: string, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    let timer: NodeJS.Timeout;
    const done = () => { s.destroy(); resolve(text); };
    s.on('connect', () => s.write(handshake));
    s.on('data', (c: Buffer) => {
      const first = text === '';
      text += c.toString('latin1');
      if (first && text.startsWith('HTTP/1.1 101')) s.write(payload);
      clearTimeout(timer);
      timer = setTimeout(done, 200);
    });
    s.on('close', () => { clearTimeout(timer); resolve(text); });
    s.on('error', reject);
  });
}

void t.test('websocket routes proxy the upgrade; others refuse it', async (t) => {
  const seen: IncomingMessage[] = [];
  const up = createServer((_req, res) => res.end('plain'));
  up.on('upgrade', (req: IncomingMessage, socket) => {
    seen.push(req);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.pipe(socket); // echo
  });
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
  const upUrl = `http://127.0.0.1:${(up.address() as AddressInfo).port}`;
  const gw = await startGateway({
    routes: [
      { name: 'ws', match: { path: '/ws' }, auth: 'none', websocket: true, upstream: upUrl, identityHeaders: { 'X-User-Id': 'sub' } },
      { name: 'ws-auth', match: { path: '/secure-ws' }, websocket: true, upstream: upUrl },
      { name: 'plain', match: { path: '/plain' }, auth: 'none', upstream: upUrl },
    ],
  });
  t.teardown(async () => { await gw.close(); up.closeAllConnections(); up.close(); });

  const echoed = await upgradeAndEcho(gw.port, HANDSHAKE('/ws/chat?room=1', 'X-User-Id: evil\r\nX-Forwarded-For: 6.6.6.6\r\n'), 'hello-through-the-gateway');
  t.match(echoed, /^HTTP\/1\.1 101 /, 'upgraded');
  t.match(echoed, /hello-through-the-gateway$/, 'bytes flow both ways');
  t.equal(seen.length, 1);
  t.equal(seen[0]!.url, '/ws/chat?room=1');
  t.equal(seen[0]!.headers['x-user-id'], undefined, 'spoofed identity header stripped');
  t.equal(seen[0]!.headers['x-forwarded-for'], '127.0.0.1', 'forged XFF replaced');

  const noToken = await upgradeAndEcho(gw.port, HANDSHAKE('/secure-ws'), 'x');
  t.match(noToken, /^HTTP\/1\.1 401 /, 'the upgrade request is authenticated like any other');
  const notAllowed = await upgradeAndEcho(gw.port, HANDSHAKE('/plain'), 'x');
  t.match(notAllowed, /^HTTP\/1\.1 403 /);
  t.match(notAllowed, /"error":"websocket_not_allowed"/);
  const noRoute = await upgradeAndEcho(gw.port, HANDSHAKE('/nope'), 'x');
  t.match(noRoute, /^HTTP\/1\.1 404 /);
  t.equal(seen.length, 1, 'denied upgrades never reached the upstream');
  await new Promise((r) => setTimeout(r, 50));
  const statuses = gw.access().map((l) => l['status']).sort();
  t.same(statuses, [101, 401, 403, 404], 'each upgrade attempt is logged');
});

void t.test('an upstream that never answers the upgrade gets 502 after timeoutMs, and is logged', async (t) => {
  const up = createServer();
  up.on('upgrade', () => { /* never answer */ });
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
  const gw = await startGateway({
    routes: [{ name: 'ws', match: { path: '/ws' }, auth: 'none', websocket: true,
      upstream: { targets: [`http://127.0.0.1:${(up.address() as AddressInfo).port}`], timeoutMs: 300, retries: 0 } }],
  });
  t.teardown(async () => { await gw.close(); up.closeAllConnections(); up.close(); });
  const started = Date.now();
  const answer = await upgradeAndEcho(gw.port, HANDSHAKE('/ws/hang'), 'x');
  t.match(answer, /^HTTP\/1\.1 502 /);
  t.ok(Date.now() - started < 3_000, 'bounded by the route timeout');
  await new Promise((r) => setTimeout(r, 50));
  t.same(gw.access().map((l) => [l['status'], l['decision']]), [[502, 'upstream_error']]);
});
