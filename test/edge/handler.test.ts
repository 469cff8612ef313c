/**
 * The edge shape end to end on real sockets: routing, deny by default,
 * path normalisation before matching, request ids, denial bodies.
 */
import t from 'tap';
import { request } from 'undici';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/raw-http.js';

let up: RecordingUpstream;
let gw: TestGateway;

t.before(async () => {
  up = await startUpstream();
  gw = await startGateway({
    routes: [
      { name: 'public', match: { path: '/public' }, auth: 'none', upstream: up.url },
      { name: 'admin', match: { path: '/admin' }, upstream: up.url },
      { name: 'login', match: { exactPath: '/login', methods: ['POST'] }, auth: 'none', upstream: up.url },
      { name: 'api', match: { hosts: ['api.example.com', '*.svc.example.com'], path: '/v1' }, auth: 'none', upstream: up.url, stripPrefix: '/v1' },
    ],
  });
});
t.teardown(async () => {
  await gw.close();
  await up.close();
});

async function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  const res = await request(gw.url + path, { method: method as 'GET', headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

void t.test('a public route forwards and the upstream sees the normalised path', async (t) => {
  const before = up.received.length;
  const res = await get('/public/a/./b/../c?x=1&y=%2f');
  t.equal(res.status, 200);
  t.equal(up.received.length, before + 1);
  t.equal(up.received.at(-1)!.url, '/public/a/c?x=1&y=%2f');
  t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/);
});

void t.test('no route → 404 JSON with the request id', async (t) => {
  const res = await get('/nothing-here');
  t.equal(res.status, 404);
  t.equal(res.headers['content-type'], 'application/json');
  t.same(JSON.parse(res.text), { error: 'not_found', requestId: res.headers['x-request-id'] });
});

void t.test('a route without auth requires a token (deny by default)', async (t) => {
  const before = up.received.length;
  const res = await get('/admin/users');
  t.equal(res.status, 401);
  t.equal(res.headers['www-authenticate'], 'Bearer realm="portcullis"');
  t.same(JSON.parse(res.text).error, 'unauthorized');
  const bad = await get('/admin/users', { authorization: 'Bearer not.a.token' });
  t.equal(bad.status, 401);
  t.match(bad.headers['www-authenticate'], /error="invalid_token"/);
  t.equal(up.received.length, before, 'the upstream was never hit');
});

void t.test('path tricks cannot reach /admin through /public', async (t) => {
  const before = up.received.length;
  for (const path of ['/public/../admin', '/public/%2e%2e/admin', '/public/%2E%2E/admin', '//admin', '/public/./../admin/x']) {
    const res = await get(path);
    t.equal(res.status, 401, `${path} is routed as /admin and needs a token`);
  }
  for (const path of ['/public/..%2fadmin', '/public%2f..%2fadmin', '/public/%2e%2e;x/admin', '/public/..;/admin', '/..', '/public/../../admin', '/public/%c0%ae%c0%ae/admin', '/public\\..\\admin', '/public/a%00']) {
    const res = await rawRequest(gw.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    t.equal(res.status, 400, `${path} → 400`);
  }
  t.equal(up.received.length, before, 'none of them reached the upstream');
});

void t.test('matching is case-sensitive: /ADMIN is not /admin and falls to 404', async (t) => {
  t.equal((await get('/ADMIN')).status, 404);
  t.equal((await get('/Public')).status, 404);
});

void t.test('prefixes match on a segment boundary only', async (t) => {
  t.equal((await get('/publicity')).status, 404);
  t.equal((await get('/public')).status, 200);
  t.equal((await get('/public/')).status, 200);
  t.equal((await get('/admin;jsessionid=1')).status, 401, '`;` is a boundary: the /admin route, not a fall-through');
});

void t.test('exact paths and methods', async (t) => {
  t.equal((await get('/login', {}, 'POST')).status, 200);
  t.equal((await get('/login/x', {}, 'POST')).status, 404);
  t.equal((await get('/login', {}, 'GET')).status, 404);
});

void t.test('hosts: exact and wildcard; stripPrefix', async (t) => {
  const res = await get('/v1/orders?id=3', { host: 'api.example.com' });
  t.equal(res.status, 200);
  t.equal(up.received.at(-1)!.url, '/orders?id=3');
  t.equal((await get('/v1', { host: 'API.example.com:8080' })).status, 200, 'host is case-insensitive and port-free');
  t.equal(up.received.at(-1)!.url, '/');
  t.equal((await get('/v1/x', { host: 'a.b.svc.example.com' })).status, 200);
  t.equal((await get('/v1/x', { host: 'svc.example.com' })).status, 404, 'a wildcard never matches the apex');
  t.equal((await get('/v1/x', { host: 'evil.com' })).status, 404);
});

void t.test('X-Request-Id from an untrusted client is replaced', async (t) => {
  const res = await get('/public/x', { 'x-request-id': 'client-chosen' });
  t.not(res.headers['x-request-id'], 'client-chosen');
  t.equal(up.received.at(-1)!.headers['x-request-id'], res.headers['x-request-id']);
});

void t.test('every request gets one access-log line with the normative fields', async (t) => {
  const res = await get('/public/logged?secret=hunter2', { 'user-agent': 'tap-test', cookie: 'session=abc', authorization: 'Bearer tok.en.x' });
  const id = res.headers['x-request-id'];
  await new Promise((r) => setTimeout(r, 50));
  const line = gw.access().find((l) => l['requestId'] === id);
  t.ok(line, 'a line for this request');
  for (const field of ['time', 'level', 'requestId', 'clientIp', 'method', 'host', 'path', 'route', 'status', 'decision',
    'durationMs', 'upstreamMs', 'bytesIn', 'bytesOut', 'sub', 'wafRules', 'userAgent', 'tls']) {
    t.ok(Object.hasOwn(line!, field), `field ${field}`);
  }
  t.equal(line!['path'], '/public/logged');
  t.equal(line!['status'], 200);
  t.equal(line!['decision'], 'allow');
  t.equal(line!['route'], 'public');
  t.equal(line!['clientIp'], '127.0.0.1');
  const text = JSON.stringify(gw.logs);
  t.notMatch(text, /hunter2/, 'query strings are not logged');
  t.notMatch(text, /session=abc/, 'cookies are not logged');
  t.notMatch(text, /tok\.en\.x/, 'tokens are not logged');
});

void t.test('matrix parameters cannot skip a more specific route', async (t) => {
  const before = up.received.length;
  t.equal((await get('/public;x/../admin')).status, 401);
  const res = await rawRequest(gw.port, 'GET /admin;x/users HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  t.equal(res.status, 401, '/admin;x/users is matched as /admin/users');
  t.equal(up.received.length, before);
});

void t.test('absolute-form request targets are refused', async (t) => {
  const res = await rawRequest(gw.port, 'GET http://evil.example/public/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  t.equal(res.status, 400);
});

void t.test('Host must be one well-formed host[:port]; its position among the headers does not matter', async (t) => {
  const before = up.received.length;
  for (const host of ['x@api.example.com', 'evil.com:443@api.example.com', 'api.example.com,other', 'evil.com/api.example.com', 'a b', '']) {
    const res = await rawRequest(gw.port, `GET /public/x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    t.equal(res.status, 400, `Host: ${JSON.stringify(host)} → 400`);
  }
  t.equal(up.received.length, before, 'none reached the upstream');
  const many = Array.from({ length: 250 }, (_, i) => `X-F${i}: v\r\n`).join('');
  const res = await rawRequest(gw.port, `GET /v1/x HTTP/1.1\r\n${many}Host: api.example.com\r\nConnection: close\r\n\r\n`);
  t.equal(res.status, 200, 'a Host after 250 other headers is still the routing host');
  t.equal(up.received.at(-1)!.url, '/x');
  const ok = await rawRequest(gw.port, 'GET /public/v6 HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n');
  t.equal(ok.status, 200, 'an IPv6 literal with port is a valid Host');
  const h2 = await rawRequest(gw.port, 'GET /public/x HTTP/2.0\r\nConnection: close\r\n\r\n');
  t.not(h2.status, 200, 'an HTTP/2.0 request line on HTTP/1 does not skip the Host check');
});
