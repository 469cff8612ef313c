/**
 * `listeners.http.redirectToHttps` (issue 7): 308 to the same host, path and query on the
 * HTTPS listener; a bad Host is a 400, never a redirect elsewhere; admin is not redirected.
 */
import t from 'tap';
import { request } from 'undici';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { eventually, startGateway, type TestGateway } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/raw-http.js';
import { listenerPort, serverPki, tempDir } from '../helpers/certs.js';

let up: RecordingUpstream;
let tlsFiles: { cert: string; key: string };
t.before(async () => {
  up = await startUpstream();
  const pki = await serverPki(await tempDir(t));
  tlsFiles = { cert: pki.server.cert, key: pki.server.key };
});
t.teardown(() => up.close());

async function gateway(http: Record<string, unknown>, server: Record<string, unknown> = {}): Promise<TestGateway> {
  const gw = await startGateway({
    server,
    listeners: {
      http: { host: '127.0.0.1', port: 0, redirectToHttps: true, ...http },
      https: { host: '127.0.0.1', port: 0, ...tlsFiles, hsts: 'max-age=60' },
      admin: { host: '127.0.0.1', port: 0 },
    },
    routes: [{ name: 'r', match: { path: '/' }, auth: 'none', upstream: up.url }],
  });
  t.teardown(() => gw.close());
  return gw;
}

void t.test('every request gets 308 to https with path and query kept', async (t) => {
  const gw = await gateway({});
  const httpsPort = listenerPort(gw.runtime, 'https');
  const before = up.received.length;
  const res = await request(`${gw.url}/a/b%20c?x=1&y=%2F#frag`, { headers: { host: 'Example.TEST:8080' } });
  await res.body.dump();
  t.equal(res.statusCode, 308);
  t.equal(res.headers['location'], `https://example.test:${httpsPort}/a/b%20c?x=1&y=%2F`);
  t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/);
  t.equal(res.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP (RFC 6797 §7.2)');
  const post = await request(`${gw.url}/upload`, { method: 'POST', body: 'x'.repeat(10), headers: { host: 'example.test' } });
  await post.body.dump();
  t.equal(post.statusCode, 308, 'POST too: 308 keeps the method and body');
  const v6 = await rawRequest(gw.port, 'GET /v6 HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n');
  t.match(v6.text, new RegExp(`\\r\\nlocation: https://\\[::1\\]:${httpsPort}/v6\\r\\n`, 'i'));
  t.equal(up.received.length, before, 'nothing was proxied in clear text');
  const id = res.headers['x-request-id'];
  t.ok(await eventually(() => gw.access().some((l) => l['requestId'] === id)));
  t.match(gw.access().find((l) => l['requestId'] === id), { status: 308, decision: 'allow', path: '/a/b%20c', tls: null });
});

void t.test('a missing or malformed Host is a 400, not a redirect', async (t) => {
  const gw = await gateway({});
  for (const head of ['Host: evil@example.test', 'Host: a b', 'Host: a\r\nHost: b']) {
    const res = await rawRequest(gw.port, `GET / HTTP/1.1\r\n${head}\r\nConnection: close\r\n\r\n`);
    t.equal(res.status, 400, head);
    t.notMatch(res.text, /location:/i);
  }
  t.equal((await rawRequest(gw.port, 'GET / HTTP/1.0\r\n\r\n')).status, 400, 'HTTP/1.0 without Host has nowhere to go');
});

void t.test('redirectPort names the public port; 443 is left out', async (t) => {
  const gw = await gateway({ redirectPort: 443 });
  const res = await request(`${gw.url}/x?q=1`, { headers: { host: 'example.test' } });
  await res.body.dump();
  t.equal(res.headers['location'], 'https://example.test/x?q=1');
});

void t.test('the admin listener is not redirected', async (t) => {
  const gw = await gateway({});
  const res = await request(`${gw.adminUrl!}/healthz`);
  await res.body.dump();
  t.equal(res.statusCode, 200);
});

void t.test('X-Forwarded-Proto: https from a trusted proxy is proxied (no loop); from anyone else it is not believed', async (t) => {
  const trusting = await gateway({}, { trustedProxies: ['127.0.0.1/32'] });
  const before = up.received.length;
  const proxied = await request(`${trusting.url}/x`, { headers: { 'x-forwarded-proto': 'https' } });
  await proxied.body.dump();
  t.equal(proxied.statusCode, 200);
  t.equal(up.received[before]!.headers['x-forwarded-proto'], 'https');
  const plain = await request(`${trusting.url}/x`);
  await plain.body.dump();
  t.equal(plain.statusCode, 308, 'the same proxy without the header is redirected');
  const untrusting = await gateway({});
  const spoofed = await request(`${untrusting.url}/x`, { headers: { 'x-forwarded-proto': 'https' } });
  await spoofed.body.dump();
  t.equal(spoofed.statusCode, 308);
});

void t.test('a WebSocket upgrade on the redirecting listener gets the 308 too', async (t) => {
  const gw = await gateway({});
  const res = await rawRequest(gw.port, 'GET /ws HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  t.equal(res.status, 308);
  t.match(res.text, new RegExp(`location: https://example.test:${listenerPort(gw.runtime, 'https')}/ws`, 'i'));
});
