/**
 * RFC 7662 introspection through real sockets (issue 14): a gateway on 127.0.0.1, a real
 * authorisation server (test/helpers/introspection.ts) and a recording upstream. Active and
 * inactive tokens, identity and scopes from the response, the cache (positive bounded by exp
 * and maxTtlSec, negative briefly), single flight, outage and slowness (503 + Retry-After), both
 * client authentication methods, discovery, `tokens: all`, and no token in any log line.
 */
import t, { type Test } from 'tap';
import { request } from 'undici';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestAuthServer } from '../helpers/introspection.js';
import { makeKey, nowSec } from '../helpers/idp.js';

const CLIENT_ID = 'portcullis gateway'; // a space: form-encoded in Basic credentials (RFC 6749 §2.3.1)
const CLIENT_SECRET = 's3cret:with/odd+chars';
const TIMEOUT_MS = 300;

interface Setup { as: TestAuthServer; gw: TestGateway; up: RecordingUpstream }

async function setup(t: Test, introspection: Record<string, unknown> = {}, provider: Record<string, unknown> = {}): Promise<Setup> {
  const as = await TestAuthServer.start(CLIENT_ID, CLIENT_SECRET, [makeKey('RS256', 'k1')]);
  const up = await startUpstream();
  const gw = await startGateway({
    auth: {
      providers: [{
        name: 'as', issuer: as.issuer, jwksUri: `${as.issuer}/jwks`, algorithms: ['RS256'],
        introspection: { endpoint: as.endpoint, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, timeoutMs: TIMEOUT_MS, ...introspection },
        ...provider,
      }],
    },
    routes: [
      { name: 'api', match: { path: '/api' }, upstream: up.url, identityHeaders: { 'X-User-Id': 'sub', 'X-Client': 'client_id', 'X-Tenant': 'ext.tenant' } },
      { name: 'orders', match: { path: '/orders' }, upstream: up.url, auth: { scopes: ['orders:read'], roles: ['ops'], claims: { 'ext.tenant': 'acme' } } },
    ],
  });
  t.teardown(async () => {
    await gw.close();
    await Promise.all([up.close(), as.close()]);
  });
  return { as, gw, up };
}

async function get(gw: TestGateway, path: string, token: string) {
  const res = await request(gw.url + path, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

async function calls(gw: TestGateway, result: string): Promise<number> {
  const metric = await gw.metrics.introspectionRequestsTotal.get();
  return metric.values.find((v) => v.labels['result'] === result && v.labels['provider'] === 'as')?.value ?? 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

void t.test('an active opaque token passes with the identity of the response; inactive → 401 invalid_token', async (t) => {
  const { as, gw, up } = await setup(t);
  as.active.set('opaque-alice', { sub: 'alice', client_id: 'web', scope: 'orders:read profile', exp: nowSec() + 60, realm_access: { roles: ['ops'] }, ext: { tenant: 'acme' } });
  const ok = await get(gw, '/api/x', 'opaque-alice');
  t.equal(ok.status, 200);
  const got = up.received.at(-1)!;
  t.equal(got.headers['x-user-id'], 'alice', 'identity headers from the response members');
  t.equal(got.headers['x-client'], 'web');
  t.equal(got.headers['x-tenant'], 'acme', 'nested members too');
  t.equal((await get(gw, '/orders/1', 'opaque-alice')).status, 200, 'scopes, roles and claims checked against the response');
  as.active.set('opaque-bob', { sub: 'bob', scope: 'profile', exp: nowSec() + 60 });
  const forbidden = await get(gw, '/orders/1', 'opaque-bob');
  t.equal(forbidden.status, 403, 'a missing scope: 403');
  t.match(forbidden.headers['www-authenticate'], /error="insufficient_scope"/);
  const inactive = await get(gw, '/api/x', 'opaque-nobody');
  t.equal(inactive.status, 401);
  t.equal(inactive.headers['www-authenticate'], 'Bearer realm="portcullis", error="invalid_token", error_description="token not active"');
  t.equal(JSON.parse(inactive.text).error, 'invalid_token');
  t.equal(as.calls[0]!.auth, 'basic', 'client_secret_basic by default');
  t.equal(as.calls[0]!.clientId, CLIENT_ID, 'with form-encoded credentials the server decodes');
  t.equal(await calls(gw, 'active'), 2);
  t.equal(await calls(gw, 'inactive'), 1);
  t.equal(up.received.filter((r) => r.url.startsWith('/api')).length, 1, 'the inactive token never reached the upstream');
  const logs = JSON.stringify(gw.logs);
  t.notOk(logs.includes('opaque-alice') || logs.includes('opaque-nobody'), 'no token in any log line');
  t.notOk(logs.includes(CLIENT_SECRET), 'nor the client secret');
});

void t.test('an active answer whose claims fail is refused: expired, wrong issuer, wrong audience', async (t) => {
  const { as, gw } = await setup(t, {}, { audiences: ['orders-api'] });
  as.active.set('expired', { sub: 'a', exp: nowSec() - 3600, aud: 'orders-api' });
  as.active.set('other-iss', { sub: 'a', iss: 'https://elsewhere', aud: 'orders-api' });
  as.active.set('other-aud', { sub: 'a', aud: 'billing' });
  as.active.set('good', { sub: 'a', aud: ['billing', 'orders-api'] });
  t.match((await get(gw, '/api/x', 'expired')).headers['www-authenticate'], /token expired/);
  t.match((await get(gw, '/api/x', 'other-iss')).headers['www-authenticate'], /unknown issuer/);
  t.match((await get(gw, '/api/x', 'other-aud')).headers['www-authenticate'], /audience not accepted/);
  t.equal((await get(gw, '/api/x', 'good')).status, 200, 'no exp, no iss, an accepted aud: passes');
});

void t.test('cache: a hit costs no call; positive entries end at exp and at maxTtlSec, negative ones after negativeTtlSec', async (t) => {
  const { as, gw } = await setup(t, { maxTtlSec: 1, negativeTtlSec: 1 });
  as.active.set('long', { sub: 'a', exp: nowSec() + 3600 });
  for (let i = 0; i < 5; i++) t.equal((await get(gw, '/api/x', 'long')).status, 200);
  t.equal(as.callsFor('long'), 1, 'five requests, one call');
  for (let i = 0; i < 3; i++) t.equal((await get(gw, '/api/x', 'never')).status, 401);
  t.equal(as.callsFor('never'), 1, 'an inactive answer is cached too');
  await sleep(1_100);
  t.equal((await get(gw, '/api/x', 'long')).status, 200);
  t.equal(as.callsFor('long'), 2, 'after maxTtlSec the token is introspected again (revocation is seen)');
  t.equal((await get(gw, '/api/x', 'never')).status, 401);
  t.equal(as.callsFor('never'), 2, 'after negativeTtlSec too');
  as.active.delete('long'); // revoked
  await sleep(1_100);
  t.equal((await get(gw, '/api/x', 'long')).status, 401, 'a revoked token fails once its entry is gone');
});

void t.test('cache: an entry never outlives the token exp', async (t) => {
  const { as, gw } = await setup(t, { maxTtlSec: 300 });
  as.active.set('short', { sub: 'a', exp: nowSec() + 2 });
  t.equal((await get(gw, '/api/x', 'short')).status, 200);
  t.equal((await get(gw, '/api/x', 'short')).status, 200);
  t.equal(as.callsFor('short'), 1, 'cached');
  as.active.delete('short');
  await sleep(2_100);
  t.equal((await get(gw, '/api/x', 'short')).status, 401, 'past exp the cached answer is gone: asked again, now inactive');
  t.equal(as.callsFor('short'), 2);
});

void t.test('concurrent misses for one token share one call', async (t) => {
  const { as, gw } = await setup(t);
  as.delayMs = 150;
  as.active.set('burst', { sub: 'a', exp: nowSec() + 60 });
  const statuses = await Promise.all(Array.from({ length: 20 }, () => get(gw, '/api/x', 'burst').then((r) => r.status)));
  t.same([...new Set(statuses)], [200]);
  t.equal(as.callsFor('burst'), 1, 'twenty concurrent requests, one call');
});

void t.test('endpoint down, failing, slow or garbled → 503 with Retry-After, never 200 nor 401; recovers by itself', async (t) => {
  const { as, gw, up } = await setup(t);
  as.active.set('tok', { sub: 'a', exp: nowSec() + 60 });
  const cases: [typeof as.mode, string][] = [['error', 'error'], ['reset', 'error'], ['hang', 'timeout'], ['garbage', 'error']];
  let n = 0;
  for (const [mode, result] of cases) {
    as.mode = mode;
    const before = await calls(gw, result);
    const started = performance.now();
    const res = await get(gw, '/api/x', `tok-${n++}-${mode}`);
    const ms = performance.now() - started;
    t.equal(res.status, 503, `${mode}: 503`);
    t.equal(res.headers['retry-after'], '5', `${mode}: Retry-After`);
    t.equal(JSON.parse(res.text).error, 'unavailable');
    t.ok(ms < TIMEOUT_MS + 700, `${mode}: answered within the timeout bound (${ms.toFixed(0)} ms)`);
    t.equal(await calls(gw, result), before + 1, `${mode}: counted as ${result}`);
  }
  as.mode = 'up';
  as.delayMs = TIMEOUT_MS * 3;
  t.equal((await get(gw, '/api/x', 'tok')).status, 503, 'slower than timeoutMs: 503');
  as.delayMs = 0;
  t.equal((await get(gw, '/api/x', 'tok')).status, 200, 'an error is not cached: the next request succeeds');
  t.equal(up.received.length, 1, 'only that one reached the upstream');
  t.ok(gw.logs.some((l) => l['msg'] === 'token introspection failed; the token is answered 503' && l['provider'] === 'as'), 'logged, with the provider');
  t.notOk(JSON.stringify(gw.logs).includes('tok-'), 'no token in the logs');
});

void t.test('wrong client credentials: the endpoint answers 401, the request gets 503 (the token was not judged)', async (t) => {
  const { gw } = await setup(t, { clientSecret: 'not-the-secret' });
  t.equal((await get(gw, '/api/x', 'whatever')).status, 503);
});

void t.test('discovery provides the endpoint; client_secret_post; tokens: all sends JWTs there too', async (t) => {
  const key = makeKey('RS256', 'k1');
  const as = await TestAuthServer.start(CLIENT_ID, CLIENT_SECRET, [key]);
  const up = await startUpstream();
  const gw = await startGateway({
    auth: {
      providers: [{
        name: 'as', issuer: as.issuer, discovery: true, algorithms: ['RS256'],
        introspection: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, authMethod: 'client_secret_post', tokens: 'all' },
      }],
    },
    routes: [{ name: 'api', match: { path: '/api' }, upstream: up.url }],
  });
  t.teardown(async () => { await gw.close(); await Promise.all([up.close(), as.close()]); });
  as.active.set('opaque', { sub: 'a' });
  t.equal((await get(gw, '/api/x', 'opaque')).status, 200, 'the discovered endpoint answered');
  t.equal(as.calls[0]!.auth, 'post', 'client_secret_post: credentials in the form');
  const { signJws } = await import('../helpers/idp.js');
  const jwt = signJws({ alg: 'RS256', typ: 'JWT', kid: 'k1' }, { iss: as.issuer, sub: 'revoked', exp: nowSec() + 60 }, key.privateKey);
  const res = await get(gw, '/api/x', jwt);
  t.equal(res.status, 401, 'a well-signed JWT the server calls inactive (revoked) is refused');
  t.equal(as.callsFor(jwt), 1, 'it was introspected');
});
