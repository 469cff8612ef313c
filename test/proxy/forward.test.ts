/**
 * Forwarding behaviour against real upstreams on 127.0.0.1: status mapping
 * for upstream failures, body limits, round-robin with passive ejection,
 * retries, and streaming without buffering.
 */
import t from 'tap';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { startUpstream } from '../helpers/upstream.js';
import { startGateway } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/raw-http.js';

/** A port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

void t.test('unreachable upstream → 502, slow upstream → 504, both logged', async (t) => {
  const slow = await startUpstream((_req, res) => { setTimeout(() => { res.end('late'); }, 1_500); });
  const dead = await deadPort();
  const gw = await startGateway({
    routes: [
      { name: 'dead', match: { path: '/dead' }, auth: 'none', upstream: `http://127.0.0.1:${dead}` },
      { name: 'slow', match: { path: '/slow' }, auth: 'none', upstream: { targets: [slow.url], timeoutMs: 200, retries: 0 } },
    ],
  });
  t.teardown(async () => { await gw.close(); await slow.close(); });
  const r1 = await request(gw.url + '/dead');
  t.equal(r1.statusCode, 502);
  t.same(await r1.body.json(), { error: 'bad_gateway', requestId: r1.headers['x-request-id'] });
  const r2 = await request(gw.url + '/slow');
  t.equal(r2.statusCode, 504);
  t.same(await r2.body.json(), { error: 'gateway_timeout', requestId: r2.headers['x-request-id'] });
  await new Promise((r) => setTimeout(r, 50));
  const decisions = gw.access().map((l) => [l['route'], l['status'], l['decision']]);
  t.same(decisions, [['dead', 502, 'upstream_error'], ['slow', 504, 'upstream_error']]);
  t.ok(gw.logs.some((l) => l['msg'] === 'upstream error' && l['reason'] === 'ECONNREFUSED'), 'the cause is logged');
});

void t.test('bodies over maxBodyBytes → 413, declared or chunked; nothing reaches the upstream for a declared one', async (t) => {
  const up = await startUpstream();
  const gw = await startGateway({
    server: { limits: { maxBodyBytes: 1024 } },
    routes: [{ name: 'u', match: { path: '/' }, auth: 'none', upstream: up.url }],
  });
  t.teardown(async () => { await gw.close(); await up.close(); });
  const declared = await request(gw.url + '/upload', { method: 'POST', body: Buffer.alloc(2048, 97) });
  t.equal(declared.statusCode, 413);
  await declared.body.dump();
  t.equal(up.received.length, 0);
  const chunked = await rawRequest(gw.port,
    'POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n' + ('400\r\n' + 'a'.repeat(1024) + '\r\n').repeat(3) + '0\r\n\r\n', 500);
  t.equal(chunked.status, 413);
  const ok = await request(gw.url + '/upload', { method: 'POST', body: Buffer.alloc(1024, 97) });
  t.equal(ok.statusCode, 200, 'exactly the limit passes');
  await ok.body.dump();
});

void t.test('oversized headers → 431', async (t) => {
  const up = await startUpstream();
  const gw = await startGateway({
    server: { limits: { maxHeaderBytes: 2048 } },
    routes: [{ name: 'u', match: { path: '/' }, auth: 'none', upstream: up.url }],
  });
  t.teardown(async () => { await gw.close(); await up.close(); });
  const res = await rawRequest(gw.port, `GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`);
  t.equal(res.status, 431);
  t.match(res.text, /"error":"headers_too_large"/);
  t.equal(up.received.length, 0);
});

void t.test('several targets: round-robin, a dead one is ejected, idempotent requests retried', async (t) => {
  const a = await startUpstream((_q, res) => res.end('a'));
  const b = await startUpstream((_q, res) => res.end('b'));
  const dead = await deadPort();
  const gw = await startGateway({
    routes: [
      { name: 'rr', match: { path: '/rr' }, auth: 'none', upstream: { targets: [a.url, b.url], timeoutMs: 2000, retries: 1 } },
      { name: 'mixed', match: { path: '/mixed' }, auth: 'none', upstream: { targets: [`http://127.0.0.1:${dead}`, a.url], timeoutMs: 2000, retries: 1 } },
    ],
  });
  t.teardown(async () => { await gw.close(); await a.close(); await b.close(); });
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) seen.push(await (await request(gw.url + '/rr')).body.text());
  t.same(seen.sort(), ['a', 'a', 'b', 'b'], 'alternates between targets');
  for (let i = 0; i < 6; i++) {
    const r = await request(gw.url + '/mixed');
    t.equal(r.statusCode, 200, `GET ${i} retried onto the live target`);
    await r.body.dump();
  }
  const post = await request(gw.url + '/mixed', { method: 'POST', body: 'x' });
  t.equal(post.statusCode, 200, 'the dead target is ejected, so a POST goes to the live one');
  await post.body.dump();
  t.ok(gw.logs.some((l) => l['msg'] === 'upstream target ejected after consecutive failures'));
});

void t.test('a 100 MB body streams both ways with flat memory', async (t) => {
  const size = 100 * 1024 * 1024;
  const up = await startUpstream((req, res, rec) => {
    // Echo the size back as a streamed download of the same length.
    res.writeHead(200, { 'content-length': String(rec.bodyBytes) });
    const chunk = Buffer.alloc(64 * 1024, 98);
    let left = rec.bodyBytes;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) { res.once('drain', pump); return; }
      }
      res.end();
    };
    pump();
  }, 0);
  const gw = await startGateway({
    server: { limits: { maxBodyBytes: 200 * 1024 * 1024 } },
    routes: [{ name: 'big', match: { path: '/' }, auth: 'none', upstream: up.url }],
  });
  t.teardown(async () => { await gw.close(); await up.close(); });
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
  const received = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(gw.url + '/upload', { method: 'POST', headers: { 'content-length': String(size) } }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => { n += c.length; });
      res.on('end', () => resolve(n));
      res.on('error', reject);
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(256 * 1024, 97);
    let sent = 0;
    const write = (): void => {
      while (sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) { req.once('drain', write); return; }
      }
      req.end();
    };
    write();
  });
  clearInterval(sampler);
  t.equal(up.received[0]!.bodyBytes, size, 'upstream got every byte');
  t.equal(received, size, 'client got every byte back');
  // Client, gateway and upstream share this process: a buffered 100 MB would show as ≥ 100 MB of growth.
  t.ok(peak - rssBefore < 60 * 1024 * 1024, `RSS grew ${Math.round((peak - rssBefore) / 1048576)} MB (< 60 MB)`);
});

void t.test('a client that aborts its upload is logged 499, not as an upstream error', async (t) => {
  const up = await startUpstream();
  const gw = await startGateway({ routes: [{ name: 'u', match: { path: '/' }, auth: 'none', upstream: up.url }] });
  t.teardown(async () => { await gw.close(); await up.close(); });
  await new Promise<void>((resolve) => {
    const req = httpRequest(gw.url + '/upload', { method: 'POST', headers: { 'content-length': '100000' } });
    req.on('error', () => resolve());
    req.write(Buffer.alloc(1000));
    setTimeout(() => { req.destroy(); resolve(); }, 100);
  });
  await new Promise((r) => setTimeout(r, 200));
  const lines = gw.access();
  t.equal(lines.length, 1, JSON.stringify(gw.logs));
  t.equal(lines[0]!['status'], 499);
  t.equal(lines[0]!['decision'], 'allow');
  t.notOk(gw.logs.some((l) => l['msg'] === 'upstream error'), 'no upstream error logged');
});

void t.test('a client that stops reading releases the upstream connection after timeoutMs', async (t) => {
  let upstreamClosedAt = 0;
  const up = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const chunk = Buffer.alloc(64 * 1024, 120);
    let sent = 0;
    const pump = (): void => {
      // Bounded: at most 256 MB, far more than socket buffers hold, so backpressure must kick in.
      while (sent < 4096 && !res.destroyed) {
        sent++;
        if (!res.write(chunk)) { res.once('drain', pump); return; }
      }
      res.end();
    };
    res.on('close', () => { upstreamClosedAt = Date.now(); });
    pump();
  }, 0);
  const gw = await startGateway({
    routes: [{ name: 'big', match: { path: '/' }, auth: 'none', upstream: { targets: [up.url], timeoutMs: 300, retries: 0 } }],
  });
  t.teardown(async () => { await gw.close(); await up.close(); });
  const { connect } = await import('node:net');
  const client = connect(gw.port, '127.0.0.1');
  client.on('error', () => undefined);
  client.write('GET /infinite HTTP/1.1\r\nHost: h\r\n\r\n');
  client.pause(); // never read
  const started = Date.now();
  while (upstreamClosedAt === 0 && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 50));
  client.destroy();
  t.ok(upstreamClosedAt > 0, 'the upstream response was abandoned');
  t.ok(upstreamClosedAt - started < 3_000, `within ${upstreamClosedAt - started} ms`);
});

void t.test('a whole body in one chunk goes out with the end; a body in parts streams as it comes', async (t) => {
  // the upstream sends the first half of a body, then waits for the client to have it
  let sendRest: () => void = () => {};
  const up = await startUpstream((req, res) => {
    if (req.url === '/whole') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '11' });
      res.end('hello world');
      return;
    }
    const declared = req.url === '/parts' ? { 'content-length': '10' } : {}; // '/chunked': no length
    res.writeHead(200, { 'content-type': 'text/plain', ...declared });
    res.write('abcde');
    // bounded: a gateway holding the first half fails the timing check below instead of hanging
    const rest = setTimeout(() => res.end('fghij'), 5_000);
    sendRest = () => { clearTimeout(rest); if (!res.writableEnded) res.end('fghij'); };
  });
  const gw = await startGateway({ routes: [{ name: 'u', match: { path: '/' }, auth: 'none', upstream: up.url }] });
  t.teardown(async () => { await gw.close(); await up.close(); });

  const whole = await request(gw.url + '/whole');
  t.equal(whole.headers['content-length'], '11');
  t.equal(await whole.body.text(), 'hello world');

  for (const path of ['/parts', '/chunked']) {
    const started = Date.now();
    const r = await request(gw.url + path);
    let text = '';
    for await (const chunk of r.body) {
      if (text === '') t.equal(String(chunk), 'abcde', `${path}: the first part arrives before the upstream sends the rest`);
      text += String(chunk);
      sendRest();
    }
    t.equal(text, 'abcdefghij', path);
    t.ok(Date.now() - started < 4_000, `${path}: not held until the upstream's own timer`);
  }
  await new Promise((r) => setTimeout(r, 50));
  t.same(gw.access().map((l) => [l['bytesOut'], l['status']]), [[11, 200], [10, 200], [10, 200]]);
});
