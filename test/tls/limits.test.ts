/**
 * Slow clients on the HTTPS listener (issue 7): a handshake that never finishes, an HTTP/1.1
 * head that never ends, an HTTP/2 body that stops, an idle HTTP/2 session — each is bounded
 * by server.limits as on the plain listener, and a reload (SIGHUP) changes the bounds in place.
 */
import t from 'tap';
import { connect as netConnect } from 'node:net';
import { startUpstream } from '../helpers/upstream.js';
import { eventually, startGateway } from '../helpers/gateway.js';
import { h2Connect, h2Request, listenerPort, serverPki, tempDir } from '../helpers/certs.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startProcess } from '../helpers/process.js';
import { rawRequest, rawTlsRequest } from '../helpers/raw-http.js';

const LIMITS = { headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveTimeoutMs: 300 };

for (const http2 of [true, false]) void t.test(`slow TLS clients are cut off (http2: ${http2})`, async (t) => {
  const up = await startUpstream();
  const pki = await serverPki(await tempDir(t));
  const gw = await startGateway({
    server: { limits: LIMITS },
    listeners: { https: { host: '127.0.0.1', port: 0, cert: pki.server.cert, key: pki.server.key, http2 } },
    routes: [{ name: 'r', match: { path: '/' }, auth: 'none', upstream: up.url }],
  });
  t.teardown(async () => { await gw.close(); await up.close(); });
  const port = listenerPort(gw.runtime, 'https');
  const timed = <T>(p: Promise<T>) => { const start = Date.now(); return p.then((v) => ({ v, ms: Date.now() - start })); };

  const handshake = await timed(new Promise<void>((resolve) => {
    const s = netConnect(port, '127.0.0.1');
    s.on('close', () => resolve());
    s.on('error', () => undefined);
  }));
  t.ok(handshake.ms < 3_000, `a TCP client that never says hello is dropped (${handshake.ms} ms)`);

  // quietMs past the limits: the answer ends when the server closes, so `ms` times the server.
  const head = await timed(rawTlsRequest(port, 'GET / HTTP/1.1\r\nHost: localhost\r\n', { ca: pki.ca.pem, quietMs: 5_000 }).then((r) => r.text));
  t.match(head.v, /^HTTP\/1\.1 408 /, 'an unfinished HTTP/1.1 head gets 408');
  t.ok(head.ms < 3_000, `within the limits (${head.ms} ms)`);
  if (!http2) {
    await t.rejects(h2Connect(port, { ca: pki.ca.pem }), 'http2: false offers no h2');
    return;
  }

  const session = await h2Connect(port, { ca: pki.ca.pem });
  const stalled = await timed(new Promise<number>((resolve) => {
    const stream = session.request({ ':method': 'POST', ':path': '/upload' }, { endStream: false });
    stream.write('partial');
    stream.on('close', () => resolve(stream.rstCode ?? -1));
    stream.on('error', () => undefined);
    stream.resume();
  }));
  t.ok(stalled.ms < 3_000, `an HTTP/2 body that stops is cancelled (${stalled.ms} ms, code ${stalled.v})`);
  const idle = await timed(new Promise<void>((resolve) => session.on('close', () => resolve())));
  t.ok(idle.ms < 3_000, `an idle HTTP/2 session is closed with GOAWAY (${idle.ms} ms)`);
});

void t.test('HTTP/2: an upload refused mid-body ends its stream (RST_STREAM NO_ERROR), not the session', { timeout: 15_000 }, async (t) => {
  const up = await startUpstream();
  const pki = await serverPki(await tempDir(t));
  const gw = await startGateway({
    server: { limits: { maxBodyBytes: 1000 } },
    listeners: { https: { host: '127.0.0.1', port: 0, cert: pki.server.cert, key: pki.server.key } },
    routes: [{ name: 'secure', match: { path: '/secure' }, upstream: up.url }, { name: 'open', match: { path: '/open' }, auth: 'none', upstream: up.url }],
  });
  t.teardown(async () => { await gw.close(); await up.close(); });
  const session = await h2Connect(listenerPort(gw.runtime, 'https'), { ca: pki.ca.pem });
  t.teardown(() => session.close());
  for (const [path, want] of [['/secure', 401], ['/open', 413]] as const) {
    const result = await new Promise<{ status: number; rst: number | undefined }>((resolve) => {
      const stream = session.request({ ':method': 'POST', ':path': path }, { endStream: false });
      let status = 0;
      stream.on('response', (h) => { status = Number(h[':status']); });
      stream.on('close', () => resolve({ status, rst: stream.rstCode }));
      stream.on('error', () => undefined);
      stream.resume();
      // An endless upload: only the server can end this stream.
      const pump = setInterval(() => { if (stream.closed || stream.destroyed) clearInterval(pump); else stream.write(Buffer.alloc(16_384)); }, 5);
    });
    t.same(result, { status: want, rst: 0 }, `${path}: ${want}, then RST_STREAM(NO_ERROR)`);
  }
  t.equal((await h2Request(session, '/open')).status, 200, 'the session is still usable');
  t.ok(await eventually(() => gw.access().some((l) => l['path'] === '/open' && l['status'] === 413)), 'the refused upload is logged');
});

/** Milliseconds until the gateway drops a TCP client that never starts its TLS handshake (capped). */
function silentClientDropMs(port: number, capMs: number): Promise<number> {
  return new Promise((resolve) => {
    const start = Date.now();
    const s = netConnect(port, '127.0.0.1');
    const cap = setTimeout(() => s.destroy(), capMs);
    s.on('close', () => { clearTimeout(cap); resolve(Date.now() - start); });
    s.on('error', () => undefined);
  });
}

void t.test('SIGHUP: headersTimeoutMs and maxHeaderBytes apply in place, the TLS handshake timeout included', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const dir = await tempDir(t);
  const pki = await serverPki(dir);
  const config = (headersTimeoutMs: number, maxHeaderBytes: number) => [
    `server: { limits: { headersTimeoutMs: ${headersTimeoutMs}, maxHeaderBytes: ${maxHeaderBytes}, keepAliveTimeoutMs: 60000 } }`,
    'listeners:',
    '  http: { host: 127.0.0.1, port: 0 }',
    `  https: { host: 127.0.0.1, port: 0, cert: "${pki.server.cert}", key: "${pki.server.key}" }`,
    'routes:',
    `  - { name: r, match: { path: / }, auth: none, upstream: "${up.url}" }`,
    '',
  ].join('\n');
  const file = join(dir, 'gw.yaml');
  await writeFile(file, config(20_000, 16_384));
  const gp = await startProcess(['serve', '--config', file]);
  t.teardown(() => gp.kill());
  await gp.waitForLog((l) => l['msg'] === 'listening' && l['listener'] === 'https');
  const port = gp.port('https');
  const big = { headers: { 'x-big': 'a'.repeat(4_000) } };
  const plainBig = () => rawRequest(gp.port('http'), `GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Big: ${'a'.repeat(4_000)}\r\n\r\n`);
  t.equal((await plainBig()).status, 200, 'before: the plain listener accepts a 4 kB header');
  t.ok(await silentClientDropMs(port, 1_500) >= 1_500, 'before: a silent client is held (20 s handshake timeout)');
  const h2Before = await h2Connect(port, { ca: pki.ca.pem });
  t.teardown(() => h2Before.close());
  t.equal((await h2Request(h2Before, '/x', big)).status, 200, 'before: a 4 kB header is accepted');

  await writeFile(file, config(300, 2_048));
  gp.child.kill('SIGHUP');
  await gp.waitForLog((l) => l['msg'] === 'config reloaded');
  t.notOk(gp.logs.some((l) => String(l['msg']).includes('on restart')), 'nothing left for a restart');
  const after = await silentClientDropMs(port, 5_000);
  t.ok(after < 3_000, `after: the handshake timeout is the new headersTimeoutMs (${after} ms)`);
  const h1 = (await rawTlsRequest(port, `GET /x HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(4_000)}\r\n\r\n`, { ca: pki.ca.pem, quietMs: 5_000 })).text;
  t.match(h1, /^HTTP\/1\.1 431 /, 'after: HTTP/1.1 heads are bounded by the new maxHeaderBytes');
  t.equal((await plainBig()).status, 431, 'after: on the plain listener too');
  const h2After = await h2Connect(port, { ca: pki.ca.pem });
  t.teardown(() => h2After.close());
  t.equal((await h2Request(h2After, '/x')).status, 200); // the server's SETTINGS have arrived
  t.equal(h2After.remoteSettings.maxHeaderListSize, 2_048, 'new HTTP/2 sessions are offered the new header list size');
  t.equal(h2Before.remoteSettings.maxHeaderListSize, 16_384, 'open sessions keep theirs');
  t.equal((await h2Request(h2Before, '/x')).status, 200, 'the session opened before the reload still serves');
  gp.child.kill('SIGTERM');
  t.equal(await gp.exited, 0);
});
