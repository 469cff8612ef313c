/**
 * Slow request bodies (issue 22, item 4). On HTTP/2 requestTimeoutMs was an idle timeout: a
 * body dripping a byte at a time lived forever, and 280 of them from one client held all 256
 * connections of a route's pool, so another client's GET waited for one until it got 503.
 * Now: requestTimeoutMs is an absolute deadline on every protocol, a body slower than
 * minBodyBytesPerSec (after minBodyRateGraceMs) gets 408, and one client address may have at
 * most maxInFlightPerClient requests forwarded at once. Only defaults are configured here
 * besides requestTimeoutMs, so the same file runs against the code before the fix.
 */
import t, { type Test } from 'tap';
import { connect as netConnect } from 'node:net';
import { request as httpRequest } from 'node:http';
import type { ClientHttp2Session } from 'node:http2';
import { startUpstream } from '../helpers/upstream.js';
import { eventually, startGateway, type TestGateway } from '../helpers/gateway.js';
import { h2Connect, h2Request, listenerPort, serverPki, tempDir } from '../helpers/certs.js';

interface Outcome { status: number; body: string; ms: number; retryAfter: string | null; rst?: number | undefined }

/** Test bound: no body here is meant to take longer (before the fix, dripped ones did). */
const CAP_MS = 9_000;

/** POSTs over HTTP/2, writing `chunk` every `everyMs` ms until the gateway answers or CAP_MS passes. */
function h2Drip(session: ClientHttp2Session, chunk: string, everyMs: number, totalBytes = Infinity, type = 'application/octet-stream'): Promise<Outcome> {
  return new Promise((resolve) => {
    const start = Date.now();
    const stream = session.request({ ':method': 'POST', ':path': '/up', 'content-type': type }, { endStream: false });
    let status = 0;
    let body = '';
    let retryAfter: string | null = null;
    let sent = 0;
    stream.setEncoding('utf8');
    stream.on('response', (h) => {
      status = Number(h[':status']);
      retryAfter = (h['retry-after'] as string | undefined) ?? null;
    });
    stream.on('data', (c: string) => { body += c; });
    stream.on('error', () => undefined);
    const drip = setInterval(() => {
      if (stream.closed || stream.destroyed || status !== 0) return;
      if (sent + chunk.length >= totalBytes) {
        clearInterval(drip);
        stream.end(chunk);
      } else stream.write(chunk);
      sent += chunk.length;
    }, everyMs);
    const cap = setTimeout(() => stream.close(), CAP_MS);
    stream.on('close', () => {
      clearInterval(drip);
      clearTimeout(cap);
      resolve({ status, body, ms: Date.now() - start, retryAfter, rst: stream.rstCode });
    });
  });
}

/** The same over plain HTTP/1.1 with a declared Content-Length. */
function h1Drip(port: number, chunk: string, everyMs: number, totalBytes: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const start = Date.now();
    const s = netConnect(port, '127.0.0.1');
    let got = '';
    let sent = 0;
    s.write(`POST /up HTTP/1.1\r\nHost: h\r\nContent-Type: application/octet-stream\r\nContent-Length: ${totalBytes}\r\n\r\n`);
    const drip = setInterval(() => {
      if (s.destroyed || got !== '' || sent >= totalBytes) return;
      s.write(chunk);
      sent += chunk.length;
    }, everyMs);
    const cap = setTimeout(() => s.destroy(), CAP_MS);
    s.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      if (got.includes('\r\n\r\n') && got.includes('}')) s.end();
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearInterval(drip);
      clearTimeout(cap);
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(got);
      resolve({ status: status ? Number(status[1]) : 0, body: got.slice(got.indexOf('\r\n\r\n') + 4), ms: Date.now() - start, retryAfter: null });
    });
  });
}

async function tlsGateway(t: Test, limits: Record<string, number>, upstream: string | Record<string, unknown>): Promise<{ gw: TestGateway; port: number; ca: string }> {
  const pki = await serverPki(await tempDir(t));
  const gw = await startGateway({
    server: { limits },
    listeners: {
      http: { host: '127.0.0.1', port: 0 },
      https: { host: '127.0.0.1', port: 0, cert: pki.server.cert, key: pki.server.key },
    },
    routes: [{ name: 'up', match: { path: '/' }, auth: 'none', upstream }],
  });
  t.teardown(() => gw.close());
  return { gw, port: listenerPort(gw.runtime, 'https'), ca: pki.ca.pem };
}

void t.test('HTTP/2: a body dripped a byte at a time gets 408 at requestTimeoutMs, and its upstream request is aborted', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const { gw, port, ca } = await tlsGateway(t, { headersTimeoutMs: 1_000, requestTimeoutMs: 1_500 }, up.url);
  const session = await h2Connect(port, { ca });
  t.teardown(() => session.destroy());
  // Every 200 ms: an idle timeout never fires; 1.5 s is well inside the rate's grace period.
  // A binary body streams to the upstream; a JSON one is still being read for the WAF.
  const [got, json] = await Promise.all([h2Drip(session, 'x', 200), h2Drip(session, ' ', 200, Infinity, 'application/json')]);
  t.equal(got.status, 408, `answered 408 after ${got.ms} ms`);
  t.match(JSON.parse(got.body || '{}'), { error: 'request_timeout', requestId: String }, 'with the JSON error body');
  t.ok(got.ms >= 1_400 && got.ms < 3_500, `at the deadline (${got.ms} ms)`);
  t.same([got.rst, json.rst], [0, 0], 'then RST_STREAM(NO_ERROR) ends the rest of each upload');
  t.equal(json.status, 408, `a body the WAF is reading: 408 after ${json.ms} ms`);
  t.ok(json.ms >= 1_400 && json.ms < 3_500, 'at the deadline too');
  t.ok(await eventually(() => up.received.length === 1 && up.received[0]!.aborted), 'the upstream request was aborted');
  // Up to 5 s: the lines follow the stream's close, which a loaded CI box delays (failed once at the 2 s default).
  const logged408 = (): number => gw.access().filter((l) => l['status'] === 408 && l['protocol'] === 'HTTP/2').length;
  t.ok(await eventually(() => logged408() === 2, 5_000), 'both logged as 408', { logged: gw.access().map((l) => `${String(l['status'])} ${String(l['protocol'])}`) });
  t.equal((await h2Request(session, '/after')).status, 200, 'the session still serves');
});

void t.test('a body slower than minBodyBytesPerSec gets 408 after the grace period; a slow-ish one passes (HTTP/2 and HTTP/1.1)', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const { gw, port, ca } = await tlsGateway(t, { requestTimeoutMs: 20_000 }, up.url);
  const session = await h2Connect(port, { ca });
  t.teardown(() => session.destroy());
  // 5 B/s against the default 240 B/s; and 4 KB/s for 6.5 s, past the 5 s grace period.
  const [h2Slow, h1Slow, h2Ok, h1Ok] = await Promise.all([
    h2Drip(session, 'x', 200),
    h1Drip(gw.port, 'x', 200, 1_000),
    h2Drip(session, 'y'.repeat(1_024), 250, 26 * 1_024),
    h1Drip(gw.port, 'z'.repeat(1_024), 250, 26 * 1_024),
  ]);
  for (const [name, got] of [['HTTP/2', h2Slow], ['HTTP/1.1', h1Slow]] as const) {
    t.equal(got.status, 408, `${name}: 5 B/s answered 408 after ${got.ms} ms`);
    t.match(JSON.parse(got.body || '{}'), { error: 'request_timeout' }, `${name}: JSON error body`);
    t.ok(got.ms >= 5_000 && got.ms < 7_500, `${name}: once the grace period is over (${got.ms} ms)`);
  }
  t.equal(h2Ok.status, 200, `HTTP/2: 4 KB/s passes (${h2Ok.ms} ms)`);
  t.equal(h1Ok.status, 200, `HTTP/1.1: 4 KB/s passes (${h1Ok.ms} ms)`);
  const bodies = up.received.filter((r) => !r.aborted).map((r) => r.bodyBytes).sort();
  t.same(bodies, [26 * 1_024, 26 * 1_024], 'the slow-ish bodies reached the upstream whole');
  t.equal(up.received.filter((r) => r.aborted).length, 2, 'both dripped uploads were aborted upstream');
});

void t.test('HTTP/1.1: requestTimeoutMs still answers a dripped body 408 at the deadline', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startGateway({
    server: { limits: { headersTimeoutMs: 1_000, requestTimeoutMs: 1_500 } },
    routes: [{ name: 'up', match: { path: '/' }, auth: 'none', upstream: up.url }],
  });
  t.teardown(() => gw.close());
  const got = await h1Drip(gw.port, 'x', 200, 1_000);
  t.equal(got.status, 408, `408 after ${got.ms} ms`);
  t.match(JSON.parse(got.body || '{}'), { error: 'request_timeout' });
  t.ok(got.ms >= 1_400 && got.ms < 3_500, `at the deadline (${got.ms} ms)`);
});

void t.test('one client with 280 slow HTTP/2 uploads over 3 connections cannot starve another client\'s GET', { timeout: 60_000 }, async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  // The route's timeoutMs bounds how long a request waits for a pooled connection (then 503).
  const { port, ca } = await tlsGateway(t, { requestTimeoutMs: 20_000 }, { targets: [up.url], timeoutMs: 3_000 });
  // 127.0.0.2 is another client address on loopback: the gateway keys clients by address.
  const attacker = await Promise.all([0, 1, 2].map(() => h2Connect(port, { ca, localAddress: '127.0.0.2' })));
  t.teardown(() => { for (const s of attacker) s.destroy(); });
  const uploads = Array.from({ length: 280 }, (_, i) => h2Drip(attacker[i % 3]!, 'x', 300));
  // Long enough for every upload to be forwarded (or refused), well inside the 5 s grace period.
  await eventually(() => up.received.length >= 256, 3_000);
  const held = up.received.length;
  const victim = await h2Connect(port, { ca });
  t.teardown(() => victim.destroy());
  const start = Date.now();
  const get = await h2Request(victim, '/page').catch(() => ({ status: 0 }));
  const ms = Date.now() - start;
  t.comment(`attacker uploads reaching the upstream: ${held}; victim GET: ${get.status} in ${ms} ms`);
  t.equal(get.status, 200, `the other client's GET is served (${ms} ms)`);
  t.ok(ms < 1_000, 'without waiting for a pooled connection');
  t.ok(held <= 128, `the attacker holds at most maxInFlightPerClient (128) upstream requests (${held})`);
  for (const s of attacker) s.destroy();
  const outcomes = await Promise.all(uploads);
  const refused = outcomes.filter((o) => o.status === 429);
  t.equal(refused.length, 280 - 128, 'the other uploads were refused with 429');
  t.ok(refused.length > 0 && refused.every((o) => o.retryAfter === '1' && JSON.parse(o.body).error === 'too_many_in_flight'), 'each with Retry-After and a JSON error');
});

void t.test('time the upstream holds a body back is not the client\'s: a fast upload to a slow reader passes', { timeout: 30_000 }, async (t) => {
  // Reads nothing for 4 s (past the grace period), then everything: meanwhile only
  // backpressure stops the client, and the rate check must not count that against it. A rate
  // far above what the buffers on the way can hold in 4 s makes counting that time fail.
  const up = await startUpstream();
  t.teardown(() => up.close());
  up.server.removeAllListeners('request');
  let received = 0;
  up.server.on('request', (req, res) => {
    req.pause();
    setTimeout(() => {
      req.on('data', (c: Buffer) => { received += c.length; });
      req.on('end', () => res.end('{"ok":true}'));
      req.resume();
    }, 4_000);
  });
  const size = 16 * 1024 * 1024;
  const limits = { requestTimeoutMs: 20_000, maxBodyBytes: 2 * size, minBodyBytesPerSec: 3 * 1024 * 1024, minBodyRateGraceMs: 2_000 };
  const { gw, port, ca } = await tlsGateway(t, limits, up.url);
  const session = await h2Connect(port, { ca });
  t.teardown(() => session.destroy());
  const body = 'b'.repeat(size);
  const [h2, h1] = await Promise.all([
    h2Request(session, '/up', { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } }).then((r) => r.status, () => 0),
    new Promise<number>((resolve) => {
      const req = httpRequest(`${gw.url}/up`, { method: 'POST', agent: false, headers: { 'content-type': 'application/octet-stream' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
      req.end(body);
    }),
  ]);
  t.equal(h2, 200, 'HTTP/2: 200');
  t.equal(h1, 200, 'HTTP/1.1: 200');
  t.equal(received, 2 * size, 'both bodies reached the upstream whole');
});
