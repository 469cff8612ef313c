/**
 * Envoy ext_authz over gRPC (listeners.authGrpc): a real gRPC client, built from the same protos,
 * sends CheckRequests as Envoy builds them. Allow with headers to add and remove, every denial
 * with its real HTTP status and its headers, path tricks, spoofed identity headers, the trust
 * rules, malformed and cancelled calls, and the same answers as /envoy over HTTP.
 */
import t from 'tap';
import { startGateway, type TestGateway, waitForSigningKeys } from '../helpers/gateway.js';
import { CheckClientOf, envoyCheck, grpcPort, headerMap, type CheckResponse } from '../helpers/grpc-check.js';
import { ask, endpointDoc, token, type Doc } from './fixture.js';

const ROUTES = [
  { name: 'private', match: { path: '/private' }, forwardAuthorization: false, upstream: 'http://127.0.0.1:1' },
  { name: 'hosted', match: { hosts: ['app.example.com'], path: '/hosted' }, auth: 'none', upstream: 'http://127.0.0.1:1' },
  { name: 'office', match: { path: '/office' }, auth: 'none', allowCidrs: ['203.0.113.0/24'], upstream: 'http://127.0.0.1:1' },
];

interface Both {
  readonly gw: TestGateway;
  readonly client: CheckClientOf;
  readonly httpUrl: string;
  close(): Promise<void>;
}

async function start(doc: Doc): Promise<Both> {
  const gw = await startGateway({ ...doc, listeners: { auth: { host: '127.0.0.1', port: 0 }, authGrpc: { host: '127.0.0.1', port: 0 } } });
  await waitForSigningKeys(gw);
  const authPort = (gw.runtime.listeners.find((x) => x.name === 'auth')!.server.address() as { port: number }).port;
  const client = new CheckClientOf(`127.0.0.1:${grpcPort(gw)}`);
  return { gw, client, httpUrl: `http://127.0.0.1:${authPort}`, close: async () => { client.close(); await gw.close(); } };
}

let trusted: Both;
let untrusted: Both;
t.before(async () => {
  trusted = await start(await endpointDoc(true, ROUTES));
  untrusted = await start(await endpointDoc(false, ROUTES));
});
t.teardown(async () => { await trusted?.close(); await untrusted?.close(); });

const check = (b: Both, method: string, path: string, headers: Record<string, string> = {}, host?: string, source?: string) =>
  b.client.check(envoyCheck(method, path, headers, host, source));
const denial = (r: CheckResponse) => ({ grpc: r.status?.code, http: r.denied_response?.status?.code, headers: headerMap(r.denied_response?.headers), body: r.denied_response?.body });
const bodyOf = (id: string, error: string) => JSON.stringify({ error, requestId: id });

void t.test('allow: status OK, identity headers replace the client\'s, RateLimit fields for the client', async (t) => {
  const r = await check(trusted, 'GET', '/api/orders?x=1', { authorization: `Bearer ${await token('bob', { claims: ['email=bob@example.com'] })}`, 'x-request-id': 'grpc-allow-1' });
  t.equal(r.status?.code, 0);
  t.equal(r.denied_response, undefined);
  const ok = r.ok_response!;
  t.same(headerMap(ok.headers), { 'x-user-id': 'bob', 'x-user-email': 'bob@example.com' });
  t.ok(ok.headers!.every((h) => h.append_action === 2), 'OVERWRITE_IF_EXISTS_OR_ADD: a client copy never survives beside ours');
  t.same(ok.headers_to_remove ?? [], [], 'nothing spoofed, nothing to remove');
  t.same(headerMap(ok.response_headers_to_add), { ratelimit: '"per-user";r=0;t=1000', 'ratelimit-policy': '"per-user";q=1;w=1000' });
  t.ok(ok.response_headers_to_add!.every((h) => (h.append_action ?? 0) === 0), 'appended to the upstream\'s answer, as the edge does');
  const line = trusted.gw.access().find((l) => l['requestId'] === 'grpc-allow-1');
  t.match(line, { method: 'GET', path: '/api/orders', route: 'api', status: 200, decision: 'allow', sub: 'bob', protocol: 'gRPC', tls: null });
});

void t.test('denials: the real HTTP status, the JSON body, WWW-Authenticate, Retry-After and RateLimit', async (t) => {
  const anon = denial(await check(trusted, 'GET', '/api/x', { 'x-request-id': 'grpc-401' }));
  t.match(anon, { grpc: 16, http: 401, body: bodyOf('grpc-401', 'unauthorized') });
  t.match(anon.headers, { 'www-authenticate': 'Bearer realm="portcullis"', 'content-type': 'application/json', 'cache-control': 'no-store', 'x-request-id': 'grpc-401' });
  const forbidden = denial(await check(trusted, 'GET', '/admin/x', { authorization: `Bearer ${await token('erin')}` }));
  t.match(forbidden, { grpc: 7, http: 403 });
  t.match(forbidden.headers['www-authenticate'], /insufficient_scope/);
  const auth = { authorization: `Bearer ${await token('frank')}` };
  t.equal((await check(trusted, 'GET', '/api/x', auth)).status?.code, 0);
  const limited = denial(await check(trusted, 'GET', '/api/x', { ...auth, 'x-request-id': 'grpc-429' }));
  t.match(limited, { grpc: 8, http: 429, body: bodyOf('grpc-429', 'rate_limited') });
  t.match(limited.headers, { 'retry-after': '1000', ratelimit: '"per-user";r=0;t=1000', 'ratelimit-policy': '"per-user";q=1;w=1000' });
  const none = denial(await check(trusted, 'GET', '/nowhere', { 'x-request-id': 'grpc-404' }));
  t.match(none, { grpc: 5, http: 404, body: bodyOf('grpc-404', 'not_found') });
  t.equal(denial(await check(trusted, 'DELETE', '/public/x')).http, 404, 'the original method routes');
  t.equal((await check(trusted, 'POST', '/public/x')).status?.code, 0);
  t.match(trusted.gw.access().find((l) => l['requestId'] === 'grpc-429'), { status: 429, decision: 'rate_limited', protocol: 'gRPC' });
});

void t.test('path tricks and bad input: 400 INVALID_ARGUMENT, never a throw', async (t) => {
  const bad: [string, string, Record<string, string>, string?][] = [
    ['GET', '/../api/x', {}], ['GET', '/public/..%2fapi', {}], ['GET', 'public/x', {}], ['GET', '', {}],
    ['get', '/public/x', {}], ['BREW', '/public/x', {}], ['GET', '/public/x', {}, 'u@app.example.com'],
    ['GET', '/public/x', { 'x-evil': 'a\r\nx-user-id: m' }], ['GET', '/public/x', { 'bad name': 'x' }],
  ];
  for (const [method, path, headers, host] of bad) {
    const r = denial(await check(trusted, method, path, headers, host));
    t.match(r, { grpc: 3, http: 400 }, `${method} ${JSON.stringify(path)} ${JSON.stringify(headers)} ${host ?? ''}`);
    t.match(r.body, /"error":"bad_request"/);
  }
  t.equal(denial(await check(trusted, 'GET', '/public/../api/x')).http, 401, '/public/../api is /api: a token is needed');
  t.equal(denial(await check(trusted, 'GET', '//api/x')).http, 401, '//api is /api');
  const huge = denial(await check(trusted, 'GET', '/public/x', { 'x-big': 'a'.repeat(70_000) }));
  t.match(huge, { grpc: 3, http: 431 }, 'over server.limits.maxHeaderBytes, as Node answers /envoy');
  const empty = denial(await trusted.client.check({}));
  t.match(empty, { grpc: 3, http: 400 }, 'no attributes at all');
});

void t.test('malformed messages, deadlines and cancellation leave the service answering', async (t) => {
  for (const bytes of [Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from([0x0a, 0x05, 0x01]), Buffer.from([0x0a, 0x02, 0x22, 0x7f])]) {
    const err = await trusted.client.checkError(bytes);
    t.ok(err !== null && err.code !== 0, `garbage ${bytes.toString('hex')}: a gRPC error status (${err?.code})`);
  }
  const big = await trusted.client.checkError(envoyCheck('GET', '/public/x', { 'x-big': 'a'.repeat(1_100_000) }));
  t.equal(big?.code, 8, 'over 1 MiB: RESOURCE_EXHAUSTED from grpc-js, before decoding');
  t.equal((await trusted.client.checkError(envoyCheck('GET', '/public/x'), 0)) !== null, true, 'an expired deadline is the client\'s error');
  t.ok((await trusted.client.cancelled(envoyCheck('GET', '/public/x', { 'x-request-id': 'grpc-cancelled' }))) !== null);
  t.equal((await check(trusted, 'GET', '/public/x')).status?.code, 0, 'still answering');
  t.notOk(trusted.gw.logs.some((l) => l['msg'] === 'internal error in the request pipeline'));
});

void t.test('spoofed identity headers go into headers_to_remove; forwardAuthorization: false removes the credential', async (t) => {
  const spoof = { 'x-user-id': 'mallory', x_user_email: 'm@example.com', 'x.user.roles': 'admin', 'x-auth-request-user': 'm', 'x-forwarded-user': 'm', 'remote-user': 'm', 'x-other': 'kept' };
  const anon = (await check(trusted, 'GET', '/public/x', spoof)).ok_response!;
  t.same(new Set(anon.headers_to_remove), new Set(['x-user-id', 'x_user_email', 'x.user.roles', 'x-auth-request-user', 'x-forwarded-user', 'remote-user']));
  t.same(anon.headers ?? [], [], 'anonymous route: no identity to send');
  const bob = (await check(trusted, 'GET', '/api/x', { ...spoof, authorization: `Bearer ${await token('bob2')}` })).ok_response!;
  t.equal(headerMap(bob.headers)['x-user-id'], 'bob2');
  t.notOk(bob.headers_to_remove!.includes('x-user-id'), 'a name the allow overwrites is never also removed (Envoy\'s order cannot matter)');
  t.ok(bob.headers_to_remove!.includes('x.user.roles'));
  const tok = await token('dan');
  const priv = (await check(trusted, 'GET', '/private/x', { authorization: `Bearer ${tok}`, 'x-user-id': 'mallory' })).ok_response!;
  // the DPoP proof goes with the credential it proves (docs/dpop.md)
  t.same(new Set(priv.headers_to_remove), new Set(['x-user-id', 'authorization', 'dpop']));
  const cookie = (await check(trusted, 'GET', '/private/x', { cookie: `theme=dark; access_token=${tok}` })).ok_response!;
  t.same(headerMap(cookie.headers), { cookie: 'theme=dark' }, 'the token cookie is cut out of Cookie, which HTTP cannot do');
  const only = (await check(trusted, 'GET', '/private/x', { cookie: `access_token=${tok}` })).ok_response!;
  t.ok(only.headers_to_remove!.includes('cookie'), 'nothing left: Cookie removed');
});

void t.test('trust: client address and host claims only from a trusted Envoy', async (t) => {
  t.equal((await check(trusted, 'GET', '/office', {}, undefined, '203.0.113.5')).status?.code, 0, 'source.address, Envoy\'s own view');
  t.equal((await check(trusted, 'GET', '/office', { 'x-forwarded-for': '203.0.113.6' })).status?.code, 0);
  t.equal((await check(trusted, 'GET', '/office', { 'x-envoy-external-address': '203.0.113.7' })).status?.code, 0);
  t.equal(denial(await check(trusted, 'GET', '/office', { 'x-forwarded-for': '198.51.100.1' }, undefined, '203.0.113.5')).http, 403, 'x-forwarded-for wins over source, as on /envoy');
  t.equal(denial(await check(untrusted, 'GET', '/office', { 'x-forwarded-for': '203.0.113.6' }, undefined, '203.0.113.5')).http, 403, 'untrusted: the gRPC peer is the client');
  t.equal((await check(trusted, 'GET', '/hosted', {}, 'app.example.com')).status?.code, 0, 'the host field is the original :authority');
  t.equal(denial(await check(trusted, 'GET', '/hosted', { 'x-forwarded-host': 'app.example.com' })).http, 404, 'X-Forwarded-Host is never read, as on /envoy');
  const id = (await check(untrusted, 'GET', '/nowhere', { 'x-request-id': 'chosen-by-client' })).denied_response!;
  t.not(headerMap(id.headers)['x-request-id'], 'chosen-by-client', 'an untrusted caller\'s request id is replaced');
});

void t.test('the same answers as /envoy over HTTP, request for request', async (t) => {
  // Two gateways of one config, so each transport meets the same rate-limit state.
  const doc = await endpointDoc(true, ROUTES);
  const viaHttp = await start(doc);
  const viaGrpc = await start(doc);
  t.teardown(async () => { await viaHttp.close(); await viaGrpc.close(); });
  const alice = `Bearer ${await token('alice', { claims: ['email=a@example.com', 'realm_access.roles=["x","y"]'] })}`;
  const cases: [string, string, Record<string, string>][] = [
    ['GET', '/api/x?y=1', { authorization: alice }], ['GET', '/api/x', { authorization: alice }], ['GET', '/api/x', {}],
    ['GET', '/admin', { authorization: alice }], ['GET', '/nowhere', {}], ['GET', '/public/x', { 'x-user-id': 'm', 'remote-user': 'm' }],
    ['DELETE', '/public/x', {}], ['GET', '/public/../api', {}], ['GET', '/private/x', { authorization: `Bearer ${await token('pat')}` }],
    ['GET', '/office', { 'x-forwarded-for': '203.0.113.9' }], ['GET', '/office', {}], ['GET', '/api/x', { authorization: 'Bearer not-a-jwt' }],
  ];
  let n = 0;
  for (const [method, path, headers] of cases) {
    const id = `eq-${++n}`;
    const h = await ask(viaHttp.httpUrl + '/envoy' + path, { ...headers, 'x-request-id': id }, method);
    const g = await check(viaGrpc, method, path, { ...headers, 'x-request-id': id });
    const what = `${method} ${path}`;
    if (h.status === 200) {
      t.equal(g.status?.code, 0, what);
      const ok = g.ok_response!;
      const upstream = headerMap(ok.headers);
      for (const name of ['x-user-id', 'x-user-email', 'x-user-roles']) t.equal(upstream[name], h.headers[name], `${what}: ${name}`);
      const removedHttp = String(h.headers['x-envoy-auth-headers-to-remove'] ?? '').split(', ').filter((x) => x !== '');
      t.same(new Set(ok.headers_to_remove), new Set(removedHttp), `${what}: headers to remove`);
      const client = headerMap(ok.response_headers_to_add);
      t.equal(client['ratelimit'], h.headers['ratelimit'], `${what}: RateLimit`);
    } else {
      const d = denial(g);
      t.equal(d.http, h.status, what);
      t.equal(d.body, h.body, `${what}: body`);
      for (const name of ['www-authenticate', 'retry-after', 'ratelimit', 'ratelimit-policy', 'content-type', 'cache-control', 'x-request-id']) {
        t.equal(d.headers[name], h.headers[name], `${what}: ${name}`);
      }
    }
    const lh = viaHttp.gw.access().find((l) => l['requestId'] === id);
    const lg = viaGrpc.gw.access().find((l) => l['requestId'] === id);
    for (const k of ['method', 'path', 'route', 'status', 'decision', 'sub', 'clientIp', 'host']) t.equal(lg?.[k], lh?.[k], `${what}: log ${k}`);
  }
});
