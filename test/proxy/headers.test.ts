/**
 * Anti-spoofing (PRODUCT §4) through real sockets: what the upstream
 * receives when a client sends identity, hop-by-hop and forwarding headers.
 */
import t from 'tap';
import { request } from 'undici';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/raw-http.js';

let up: RecordingUpstream;
let gw: TestGateway;

t.before(async () => {
  up = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'x-secret-hop', 'x-secret-hop': '1', 'keep-alive': 'timeout=5', 'x-kept': 'yes' });
    res.end('ok');
  });
  gw = await startGateway({
    routes: [
      { name: 'a', match: { path: '/a' }, auth: 'none', upstream: up.url,
        identityHeaders: { 'X-User-Id': 'sub' }, requestHeaders: { set: { 'X-Env': 'test', 'X-Tenant-Verified': 'gateway' }, remove: ['X-Debug'] } },
      { name: 'b', match: { path: '/b' }, auth: 'none', upstream: up.url, identityHeaders: { 'X-Tenant': 'tenant' } },
    ],
  });
});
t.teardown(async () => {
  await gw.close();
  await up.close();
});

void t.test('identity headers of every route, in every spelling, never reach the upstream', async (t) => {
  const spoof = [
    ['X-User-Id', 'evil'], ['x-user-id', 'evil'], ['X_User_Id', 'evil'], ['x.user.id', 'evil'], ['X-USER-ID', 'evil'],
    ['X-Tenant', 'evil'], ['x_tenant', 'evil'], ['X-Auth-Request-Email', 'evil@x'], ['x_auth_request_user', 'evil'],
  ];
  const head = spoof.map(([k, v]) => `${k}: ${v}\r\n`).join('');
  // The file's first request (a cold upstream connection) can take longer than the default 300 ms
  // of silence on a loaded machine; Connection: close ends the answer as soon as it is whole.
  const res = await rawRequest(gw.port, `GET /a/x HTTP/1.1\r\nHost: h\r\n${head}X-Debug: 1\r\nConnection: close\r\n\r\n`, 5_000);
  t.equal(res.status, 200);
  const rec = up.received.at(-1)!;
  const names = rec.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
  for (const [name] of spoof) t.notOk(names.includes(name!.toLowerCase()), `${name} stripped`);
  t.notOk(JSON.stringify(rec.rawHeaders).includes('evil'), 'no spoofed value arrives under any name');
  t.notOk(names.includes('x-debug'), 'requestHeaders.remove');
  t.equal(rec.headers['x-env'], 'test', 'requestHeaders.set');
});

void t.test('requestHeaders.set replaces the client\'s copies, in any case or alias spelling (issue 22 §5)', async (t) => {
  const res = await rawRequest(gw.port, 'GET /a/set HTTP/1.1\r\nHost: h\r\nX-Tenant-Verified: attacker\r\nx-tenant-verified: attacker2\r\n' +
    'X_Tenant_Verified: attacker3\r\nx.tenant.verified: attacker4\r\nX-ENV: prod\r\nConnection: close\r\n\r\n');
  t.equal(res.status, 200);
  const rec = up.received.at(-1)!;
  t.equal(rec.headers['x-tenant-verified'], 'gateway', 'the gateway\'s value alone, not "attacker, …, gateway"');
  t.equal(rec.headers['x-env'], 'test');
  const names = rec.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase().replace(/[_.]/g, '-'));
  t.equal(names.filter((n) => n === 'x-tenant-verified').length, 1, 'one X-Tenant-Verified field line');
  t.equal(names.filter((n) => n === 'x-env').length, 1, 'one X-Env field line');
  t.notOk(JSON.stringify(rec.rawHeaders).includes('attacker'), 'no client value under any spelling');
  // The twin: a route that sets nothing passes the same header on as sent.
  await rawRequest(gw.port, 'GET /b/set HTTP/1.1\r\nHost: h\r\nX-Tenant-Verified: client\r\nConnection: close\r\n\r\n');
  t.equal(up.received.at(-1)!.headers['x-tenant-verified'], 'client');
});

void t.test('the identity headers other auth proxies set never reach the upstream, auth: none included (issue 22 §9)', async (t) => {
  const spoof = [
    'X-Forwarded-User: admin', 'Remote-User: admin', 'X-Remote-User: admin', 'X-Auth-User: admin', 'X-Forwarded-Email: admin@x',
    'X-Forwarded-Preferred-Username: admin', 'X-Forwarded-Groups: admins', 'X-Forwarded-Access-Token: t', 'Remote-Groups: admins',
    'Remote-Email: admin@x', 'Remote-Name: Admin', 'X-WEBAUTH-USER: admin', 'remote_user: admin', 'X_Forwarded_User: admin', 'x.remote.user: admin',
  ];
  const res = await rawRequest(gw.port, `GET /a/who HTTP/1.1\r\nHost: h\r\n${spoof.join('\r\n')}\r\nX-Forwarded-Username: kept\r\nConnection: close\r\n\r\n`);
  t.equal(res.status, 200);
  const rec = up.received.at(-1)!;
  t.notOk(JSON.stringify(rec.rawHeaders).includes('admin'), 'none arrives, in any spelling');
  t.equal(rec.headers['x-forwarded-username'], 'kept', 'the twin: a name not on the list passes');
});

void t.test('server.stripIdentityHeaders replaces the list; [] lets them through; route identity headers go whatever it says', async (t) => {
  for (const [list, stripped, passed] of [
    [['X-Custom-User'], ['x-custom-user', 'x-user-id'], ['x-forwarded-user', 'remote-user']],
    [[], ['x-user-id'], ['x-forwarded-user', 'remote-user', 'x-custom-user']],
  ] as const) {
    const custom = await startGateway({
      server: { stripIdentityHeaders: [...list] },
      routes: [{ name: 'a', match: { path: '/a' }, auth: 'none', upstream: up.url, identityHeaders: { 'X-User-Id': 'sub' } }],
    });
    t.teardown(() => custom.close());
    const res = await rawRequest(custom.port, 'GET /a/x HTTP/1.1\r\nHost: h\r\nX-Custom-User: c\r\nX-Forwarded-User: f\r\nRemote-User: r\r\nX-User-Id: u\r\nConnection: close\r\n\r\n');
    t.equal(res.status, 200);
    const h = up.received.at(-1)!.headers;
    for (const name of stripped) t.equal(h[name], undefined, `${JSON.stringify(list)}: ${name} removed`);
    for (const name of passed) t.ok(h[name], `${JSON.stringify(list)}: ${name} passes`);
  }
});

void t.test('hop-by-hop headers and the names Connection lists are not forwarded', async (t) => {
  const res = await rawRequest(gw.port,
    'GET /a/hop HTTP/1.1\r\nHost: h\r\nConnection: close, X-Private\r\nX-Private: 1\r\nKeep-Alive: timeout=9\r\nTE: trailers\r\n' +
    'Proxy-Authorization: Basic eA==\r\nUpgrade: h2c\r\nTraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n');
  t.equal(res.status, 200);
  const h = up.received.at(-1)!.headers;
  for (const name of ['x-private', 'keep-alive', 'te', 'proxy-authorization', 'upgrade']) t.equal(h[name], undefined, `${name} dropped`);
  t.equal(h['traceparent'], '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'traceparent passes unchanged');
  t.match(res.text, /x-kept: yes/i);
  t.notMatch(res.text, /x-secret-hop/i, 'response headers named by the upstream Connection are dropped');
  t.notMatch(res.text, /keep-alive: timeout=5/i);
});

void t.test('forged X-Forwarded-* from an untrusted peer are replaced', async (t) => {
  await request(gw.url + '/a/xff', {
    headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.com', 'x-real-ip': '6.6.6.6', forwarded: 'for=6.6.6.6', host: 'shop.example' },
  }).then((r) => r.body.dump());
  const h = up.received.at(-1)!.headers;
  t.equal(h['x-forwarded-for'], '127.0.0.1');
  t.equal(h['x-forwarded-proto'], 'http');
  t.equal(h['x-forwarded-host'], 'shop.example');
  t.equal(h['x-real-ip'], undefined);
  t.equal(h['forwarded'], undefined);
  t.equal(h['host'], 'shop.example', 'Host is passed through');
});

void t.test('an HTTP/1.0 request without Host gets no X-Forwarded-Host (not an empty one)', async (t) => {
  const res = await rawRequest(gw.port, 'GET /a/old HTTP/1.0\r\n\r\n');
  t.equal(res.status, 200);
  const h = up.received.at(-1)!;
  t.equal(h.url, '/a/old');
  t.notOk(h.rawHeaders.some((name, i) => i % 2 === 0 && name.toLowerCase() === 'x-forwarded-host'), 'the field is absent');
  // The twin: with a Host, HTTP/1.0 forwards it as X-Forwarded-Host.
  t.equal((await rawRequest(gw.port, 'GET /a/old HTTP/1.0\r\nHost: old.example\r\n\r\n')).status, 200);
  t.equal(up.received.at(-1)!.headers['x-forwarded-host'], 'old.example');
});

void t.test('a trusted proxy\'s empty X-Forwarded-Host falls back to Host, or to nothing', async (t) => {
  const trusted = await startGateway({
    server: { trustedProxies: ['127.0.0.1/32'] },
    routes: [{ name: 'a', match: { path: '/a' }, auth: 'none', upstream: up.url }],
  });
  t.teardown(() => trusted.close());
  t.equal((await rawRequest(trusted.port, 'GET /a/t HTTP/1.1\r\nHost: h.example\r\nX-Forwarded-Host: \r\n\r\n')).status, 200);
  t.equal(up.received.at(-1)!.headers['x-forwarded-host'], 'h.example');
  t.equal((await rawRequest(trusted.port, 'GET /a/t HTTP/1.0\r\nX-Forwarded-Host: \r\n\r\n')).status, 200);
  const raw = up.received.at(-1)!.rawHeaders;
  t.notOk(raw.some((name, i) => i % 2 === 0 && name.toLowerCase() === 'x-forwarded-host'), 'absent, not empty');
});

void t.test('request trailers are never forwarded', async (t) => {
  const res = await rawRequest(gw.port,
    'POST /a/trailer HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: X-User-Id\r\nConnection: close\r\n\r\n' +
    '5\r\nhello\r\n0\r\nX-User-Id: evil\r\n\r\n');
  t.equal(res.status, 200);
  const rec = up.received.at(-1)!;
  t.equal(rec.body, 'hello');
  t.notOk(JSON.stringify(rec.headers).includes('evil'));
  t.same(rec.rawTrailers, [], 'the upstream received no trailers');
});

void t.test('path, method and client-address overrides never reach the upstream', async (t) => {
  const overrides = ['X-Original-URL: /admin', 'X-Rewrite-URL: /admin', 'X-HTTP-Method-Override: DELETE', 'X-Method-Override: DELETE',
    'True-Client-IP: 6.6.6.6', 'X-Client-IP: 6.6.6.6', 'CF-Connecting-IP: 6.6.6.6', 'X-Original-Forwarded-For: 6.6.6.6', 'X-Forwarded-Uri: /admin'];
  const res = await rawRequest(gw.port, `GET /a/o HTTP/1.1\r\nHost: h\r\n${overrides.join('\r\n')}\r\nConnection: close\r\n\r\n`);
  t.equal(res.status, 200);
  const text = JSON.stringify(up.received.at(-1)!.rawHeaders);
  t.notMatch(text, /\/admin|DELETE|6\.6\.6\.6/);
});

void t.test('Connection cannot remove Host or the framing headers', async (t) => {
  const res = await rawRequest(gw.port, 'POST /a/c HTTP/1.1\r\nHost: shop.example\r\nConnection: close, Host, Content-Length\r\nContent-Length: 5\r\n\r\nhello');
  t.equal(res.status, 200);
  const rec = up.received.at(-1)!;
  t.equal(rec.headers.host, 'shop.example');
  t.equal(rec.body, 'hello');
});
