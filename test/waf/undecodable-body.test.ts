/**
 * Issue 22 item 6 through real sockets: a body the WAF is meant to inspect but cannot decode
 * (invalid gzip, an unknown Content-Encoding) went to the upstream uninspected, and so did one
 * labelled `identity, identity`. In block mode such a body is now refused — 415 for a coding
 * the WAF cannot undo, 400 for data invalid for its coding — an identity-only list is identity,
 * and a compressed body is inspected, like a plain one, up to inspectBodyBytes of its decoded
 * bytes. Detect mode logs and forwards; binary bodies stream untouched as before.
 */
import t from 'tap';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { request } from 'undici';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGateway, eventually, type TestGateway } from '../helpers/gateway.js';

let up: RecordingUpstream;
let gw: TestGateway;

t.before(async () => {
  up = await startUpstream();
  gw = await startGateway({
    waf: {
      mode: 'block', inspectBodyBytes: 4096,
      exclusions: [{ route: 'push', rules: [920700] }],
    },
    routes: [
      { name: 'watch', match: { path: '/watch' }, auth: 'none', upstream: up.url, waf: 'detect' },
      { name: 'push', match: { path: '/push' }, auth: 'none', upstream: up.url },
      { name: 'api', match: { path: '/' }, auth: 'none', upstream: up.url },
    ],
  });
});
t.teardown(async () => {
  await gw.close();
  await up.close();
});

const SQLI = Buffer.from(JSON.stringify({ query: "1' UNION SELECT password FROM users--", page: 1 }));
const CLEAN = Buffer.from(JSON.stringify({ name: 'Conor', note: 'Ring twice.' }));
const JSON_TYPE = 'application/json';

async function post(path: string, body: Buffer, encoding: string | null, contentType = JSON_TYPE) {
  const before = up.received.length;
  const headers: Record<string, string> = { 'content-type': contentType };
  if (encoding !== null) headers['content-encoding'] = encoding;
  const res = await request(gw.url + path, { method: 'POST', body, headers });
  const text = await res.body.text();
  const id = res.headers['x-request-id'];
  await eventually(() => gw.access().some((l) => l['requestId'] === id));
  const line = gw.access().find((l) => l['requestId'] === id) ?? {};
  return { status: res.statusCode, headers: res.headers, text, id, line, forwarded: up.received.length > before };
}

void t.test('invalid data for its coding: 400, upstream never hit', async (t) => {
  const notGzip = await post('/api/search', SQLI, 'gzip');
  t.comment(`plain JSON labelled gzip: ${notGzip.status}`);
  t.equal(notGzip.status, 400);
  t.same(JSON.parse(notGzip.text), { error: 'bad_request', requestId: notGzip.id }, 'the usual denial body, nothing about the WAF');
  t.notOk(notGzip.forwarded, 'upstream never hit');
  t.same([notGzip.line['decision'], notGzip.line['wafRules']], ['bad_request', [920701]]);
  const truncated = gzipSync(SQLI).subarray(0, 30);
  const cut = await post('/api/search', truncated, 'gzip');
  t.same([cut.status, cut.forwarded], [400, false], 'a whole body whose gzip stream stops short');
  const garbage = await post('/api/search', Buffer.concat([gzipSync(SQLI), Buffer.alloc(70_000, 'x')]), 'gzip');
  t.same([garbage.status, garbage.forwarded], [400, false], 'a gzip member followed by padding past the bound');
  const notBrotli = await post('/api/search', SQLI, 'br');
  t.same([notBrotli.status, notBrotli.forwarded], [400, false], 'brotli');
});

void t.test('an unknown Content-Encoding: 415 with the codings the WAF reads, upstream never hit', async (t) => {
  const res = await post('/api/search', SQLI, 'x-unknown');
  t.comment(`x-unknown: ${res.status}`);
  t.equal(res.status, 415);
  t.same(JSON.parse(res.text), { error: 'unsupported_media_type', requestId: res.id });
  t.equal(res.headers['accept-encoding'], 'gzip, deflate, br', 'RFC 9110 §15.5.16');
  t.notOk(res.forwarded);
  t.same([res.line['status'], res.line['decision'], res.line['wafRules']], [415, 'bad_request', [920700]]);
  t.equal((await post('/api/search', SQLI, 'gzip, zstd')).status, 415, 'one unknown coding in a list');
  t.equal((await post('/api/search', SQLI, 'gzip, gzip, gzip, gzip')).status, 415, 'more stacked codings than the WAF undoes');
  const metrics = await (await request(gw.adminUrl + '/metrics')).body.text();
  t.match(metrics, /portcullis_waf_matches_total\{rule="920700",action="block"\} 3/);
});

void t.test('identity-only lists are identity: the body is inspected', async (t) => {
  for (const encoding of ['identity', 'identity, identity', ' Identity ,IDENTITY ']) {
    const res = await post('/api/search', SQLI, encoding);
    t.same([res.status, res.forwarded, res.line['decision']], [403, false, 'waf_blocked'], `${JSON.stringify(encoding)}: SQLi refused 403`);
  }
  const clean = await post('/api/customers', CLEAN, 'identity, identity');
  t.same([clean.status, clean.forwarded], [200, true]);
  t.equal(up.received.at(-1)!.body, CLEAN.toString(), 'forwarded unchanged');
});

void t.test('compressed bodies are inspected up to inspectBodyBytes of decoded data, like plain ones', async (t) => {
  const padded = Buffer.from(JSON.stringify({ query: "1' UNION SELECT password FROM users--", pad: ' '.repeat(70_000) }));
  const bomb = gzipSync(padded);
  t.comment(`SQLi then 70 KB of padding: ${bomb.length} bytes of gzip`);
  const res = await post('/api/search', bomb, 'gzip');
  t.same([res.status, res.forwarded], [403, false], 'the decoded prefix is inspected');
  t.ok(((res.line['wafRules'] ?? []) as number[]).some((id) => id >= 942000 && id < 943000), 'by the SQL injection rules');
  const stacked = await post('/api/search', brotliCompressSync(gzipSync(SQLI)), 'gzip, br');
  t.same([stacked.status, stacked.forwarded], [403, false], 'stacked codings are undone in turn');
  // Past the bound the policy is the plain body's (ProcessPartial, docs/waf.md): the decoded
  // bytes past inspectBodyBytes stream uninspected, whatever the compressed size.
  const late = Buffer.from(JSON.stringify({ pad: ' '.repeat(8000), query: "1' UNION SELECT password FROM users--" }));
  const plain = await post('/api/search', late, null);
  const compressed = await post('/api/search', gzipSync(late), 'gzip');
  t.same([compressed.status, compressed.forwarded], [plain.status, plain.forwarded], 'past the bound: as a plain body past the bound');
  const clean = gzipSync(CLEAN);
  const ok = await post('/api/customers', clean, 'gzip');
  t.same([ok.status, ok.forwarded], [200, true]);
  t.equal(up.received.at(-1)!.headers['content-encoding'], 'gzip');
  t.equal(up.received.at(-1)!.bodyBytes, clean.length, 'the compressed bytes are what is forwarded');
});

void t.test('detect mode logs and forwards; binary bodies and excluded routes stream as before', async (t) => {
  const unknown = await post('/watch/search', SQLI, 'x-unknown');
  t.same([unknown.status, unknown.forwarded, unknown.line['decision'], unknown.line['wafRules']], [200, true, 'allow', [920700]], 'detect: unknown coding logged');
  const corrupt = await post('/watch/search', SQLI, 'gzip');
  t.same([corrupt.status, corrupt.forwarded, corrupt.line['wafRules']], [200, true, [920701]], 'detect: invalid gzip logged');
  t.equal(up.received.at(-1)!.bodyBytes, SQLI.length, 'forwarded as received');
  const binary = await post('/api/upload', SQLI, 'x-unknown', 'application/octet-stream');
  t.same([binary.status, binary.forwarded, binary.line['wafRules']], [200, true, null], 'a binary type is not inspected by design, whatever its coding');
  const push = await post('/push/subscription', SQLI, 'aes128gcm');
  t.same([push.status, push.forwarded], [200, true], 'an exclusion of 920700 lets a route take a coding the WAF cannot read');
});
