/**
 * The WAF through real sockets: denials, body inspection before forwarding, bodies past the
 * bound and binary bodies forwarded byte for byte, detect mode, the access log and metrics.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGateway, eventually, type TestGateway } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/raw-http.js';
import { blockedOnApi } from './blocked.js';

let up: RecordingUpstream;
let gw: TestGateway;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const hashes: string[] = [];

t.before(async () => {
  up = await startUpstream((req, res, rec) => {
    hashes.push(rec.bodyBytes > 0 ? rec.body.length === rec.bodyBytes ? sha(rec.body) : 'big' : '');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ bytes: rec.bodyBytes }));
  }, 4 * 1024 * 1024);
  gw = await startGateway({
    server: { limits: { maxBodyBytes: 2 * 1024 * 1024 } },
    waf: { mode: 'block', inspectBodyBytes: 1024 },
    routes: [
      { name: 'watch', match: { path: '/watch' }, auth: 'none', upstream: up.url, waf: 'detect' },
      { name: 'open', match: { path: '/open' }, auth: 'none', upstream: up.url, waf: 'off' },
      { name: 'api', match: { path: '/' }, auth: 'none', upstream: up.url },
    ],
  });
});
t.teardown(async () => {
  await gw.close();
  await up.close();
});

async function send(method: string, path: string, body?: string | Buffer | Readable, headers: Record<string, string> = {}) {
  const res = await request(gw.url + path, { method: method as 'POST', body, headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

void t.test('a JSON attack is refused 403 before the upstream sees anything', async (t) => {
  const before = up.received.length;
  const res = await send('POST', '/api/search', '{"query":"1\' UNION SELECT password FROM users--","page":1}', { 'content-type': 'application/json' });
  const line = await blockedOnApi(t, gw, up, before, res);
  t.ok((line['wafRules'] as number[]).includes(942120), 'access log carries the rule ids');
  t.ok((line['wafScore'] as number) >= 5, 'and the score');
  const metrics = await (await request(gw.adminUrl + '/metrics')).body.text();
  t.match(metrics, /portcullis_waf_matches_total\{rule="942120",action="block"\} 1/);
  t.match(metrics, /portcullis_requests_total\{route="api",method="POST",status="403",decision="waf_blocked"\} 1/);
});

void t.test('form and multipart attacks are refused; clean bodies arrive intact', async (t) => {
  const before = up.received.length;
  t.equal((await send('POST', '/login', 'username=admin%27--&password=x', { 'content-type': 'application/x-www-form-urlencoded' })).status, 403);
  const mp = '--B\r\nContent-Disposition: form-data; name="f"; filename="../../../../var/www/shell.php"\r\nContent-Type: image/png\r\n\r\nPNG\r\n--B--\r\n';
  t.equal((await send('POST', '/upload', mp, { 'content-type': 'multipart/form-data; boundary=B' })).status, 403);
  t.equal(up.received.length, before);
  const clean = '{"name":"Conor O\'Dwyer","note":"Ring twice; the bell is broken."}';
  const ok = await send('POST', '/api/customers', clean, { 'content-type': 'application/json' });
  t.equal(ok.status, 200);
  t.equal(up.received.at(-1)!.body, clean, 'the body that was inspected is forwarded unchanged');
  t.equal(up.received.at(-1)!.headers['content-length'], String(Buffer.byteLength(clean)));
});

void t.test('a body past inspectBodyBytes: the prefix is inspected, the whole is forwarded byte for byte', async (t) => {
  const big = Buffer.concat([Buffer.from('a'.repeat(1500)), Buffer.from(' <script>alert(1)</script> '), randomBytes(200_000).map((b) => 0x61 + (b % 26))]);
  const res = await send('POST', '/api/notes', big, { 'content-type': 'text/plain' });
  t.equal(res.status, 200, 'the payload lies past the 1024-byte bound: streamed uninspected (ProcessPartial)');
  t.same(JSON.parse(res.text), { bytes: big.length });
  t.equal(up.received.at(-1)!.body, big.toString('utf8'), 'every byte, in order');
  const early = Buffer.concat([Buffer.from('<script>alert(1)</script>'), Buffer.alloc(100_000, 0x61)]);
  const before = up.received.length;
  t.equal((await send('POST', '/api/notes', early, { 'content-type': 'text/plain' })).status, 403, 'inside the bound: refused');
  t.equal(up.received.length, before);
});

function chunked(path: string, contentType: string, parts: (string | Buffer)[]): Buffer {
  const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`;
  const body = parts.map((p) => {
    const b = Buffer.isBuffer(p) ? p : Buffer.from(p);
    return Buffer.concat([Buffer.from(b.length.toString(16) + '\r\n'), b, Buffer.from('\r\n')]);
  });
  return Buffer.concat([Buffer.from(head), ...body, Buffer.from('0\r\n\r\n')]);
}

void t.test('chunked bodies: inspected, forwarded whole, maxBodyBytes still enforced', async (t) => {
  const parts = ['{"a":"', 'x'.repeat(3000), '","b":"ok"}'];
  const ok = await rawRequest(gw.port, chunked('/api/chunked', 'application/json', parts), 500);
  t.equal(ok.status, 200);
  t.equal(up.received.at(-1)!.body, parts.join(''), 'prefix and rest, in order');
  const viaWaf = up.received.at(-1)!.headers;
  await rawRequest(gw.port, chunked('/open/chunked', 'application/json', parts), 500);
  t.equal(viaWaf['content-length'], up.received.at(-1)!.headers['content-length'], 'framing as without the WAF');
  t.equal(viaWaf['transfer-encoding'], up.received.at(-1)!.headers['transfer-encoding']);
  const before = up.received.length;
  const split = await rawRequest(gw.port, chunked('/api/chunked', 'application/json', ['{"q":"<scr', 'ipt>x"}']), 500);
  t.equal(split.status, 403, 'a payload split across chunks is read whole');
  t.equal(up.received.length, before);
  const tooBig = await rawRequest(gw.port, chunked('/api/chunked', 'text/plain', [Buffer.alloc(1500, 0x61), Buffer.alloc(2 * 1024 * 1024, 0x62)]), 1000);
  t.equal(tooBig.status, 413, 'maxBodyBytes still counts the prefix and the rest');
});

void t.test('binary bodies stream untouched; off and detect routes', async (t) => {
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.from("<script>' or 1=1--"), randomBytes(5000)]);
  const res = await send('PUT', '/api/avatar', png, { 'content-type': 'image/png' });
  t.equal(res.status, 200);
  t.equal(up.received.at(-1)!.bodyBytes, png.length);
  t.equal(hashes.at(-1), 'big', 'binary bytes are not valid UTF-8 text, so compare the count and a sample');
  t.equal((await send('GET', '/open?q=%3Cscript%3E')).status, 200, 'waf: off');
  const watched = await send('GET', '/watch?q=%3Cscript%3Ex');
  t.equal(watched.status, 200, 'waf: detect lets it through');
  t.ok(await eventually(() => gw.access().some((l) => l['requestId'] === watched.headers['x-request-id'])));
  const line = gw.access().find((l) => l['requestId'] === watched.headers['x-request-id'])!;
  t.same([line['decision'], line['wafRules'], line['wafScore']], ['allow', [941110], 5]);
  t.match(await (await request(gw.adminUrl + '/metrics')).body.text(), /portcullis_waf_matches_total\{rule="941110",action="detect"\} 1/);
});

void t.test('blocked on the head alone: the body is never read, the connection is closed', async (t) => {
  const before = up.received.length;
  const res = await send('POST', '/api/x?q=%3Cscript%3E', Buffer.alloc(50_000, 0x61), { 'content-type': 'text/plain' });
  t.equal(res.status, 403);
  t.equal(res.headers['connection'], 'close');
  t.equal(up.received.length, before);
});
