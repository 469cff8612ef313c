/**
 * Auth over time, through real sockets: /readyz until the keys load, key
 * rotation without restart, an IdP outage with cached keys, the brute-force
 * brake, config reload without refetching, and what reaches the upstream
 * (identity headers from claims only; forwardAuthorization: false).
 */
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { request } from 'undici';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGateway, eventually, type TestGateway } from '../helpers/gateway.js';
import { makeKey, nowSec, TestIdp, type TestKey } from '../helpers/idp.js';
import { loadConfigFile } from '../../src/config/load.js';
import { compileGateway } from '../../src/compile/gateway.js';
import { GatewayMetrics } from '../../src/observe/metrics.js';
import { Runtime } from '../../src/server/runtime.js';
import { SHAPES } from '../../src/shapes.js';

interface Setup { idp: TestIdp; up: RecordingUpstream; gw: TestGateway; key: TestKey }

async function setup(t: Test, authExtra: Record<string, unknown> = {}, providerExtra: Record<string, unknown> = {}, route: Record<string, unknown> = {}): Promise<Setup> {
  const key = makeKey('RS256', 'k1');
  const idp = await TestIdp.start([key]);
  const up = await startUpstream();
  const gw = await startGateway({
    auth: { providers: [{ name: 'corp', issuer: idp.issuer, jwksUri: idp.jwksUri, algorithms: ['RS256'], ...providerExtra }], ...authExtra },
    routes: [{ name: 'api', match: { path: '/api' }, upstream: up.url, ...route }],
  });
  t.teardown(async () => {
    await gw.close();
    await Promise.all([up.close(), idp.close()]);
  });
  return { idp, up, gw, key };
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

void t.test('/readyz is 503 until the keys loaded once; meanwhile tokens get 503, then pass', async (t) => {
  const key = makeKey('RS256', 'k1');
  const idp = await TestIdp.start([key]);
  idp.mode = 'error';
  const up = await startUpstream();
  const gw = await startGateway({
    auth: { providers: [{ name: 'corp', issuer: idp.issuer, jwksUri: idp.jwksUri, algorithms: ['RS256'], jwksCooldownSec: 0 }] },
    routes: [{ name: 'api', match: { path: '/api' }, upstream: up.url }],
  });
  t.teardown(async () => { await gw.close(); await Promise.all([up.close(), idp.close()]); });
  const ready = await get(gw.adminUrl + '/readyz');
  t.equal(ready.status, 503, 'not ready (and the gateway started without waiting for the IdP)');
  t.match(JSON.parse(ready.text).reasons[0], /^jwks:corp: signing keys not loaded yet/);
  const early = await get(gw.url + '/api/x', bearer(idp.token(key)));
  t.equal(early.status, 503, 'a token cannot be verified yet: 503, not a 401 that would discard a good token');
  t.equal(early.headers['retry-after'], '5');
  t.equal(up.received.length, 0);
  idp.mode = 'up';
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000), 'keys loaded by the background retry');
  t.equal((await get(gw.adminUrl + '/readyz')).status, 200);
  t.equal((await get(gw.url + '/api/x', bearer(idp.token(key)))).status, 200);
});

void t.test('key rotation without restart: a new kid is fetched; the removed key stops working, cached tokens too', async (t) => {
  const { idp, gw, key } = await setup(t);
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000));
  const oldToken = idp.token(key);
  t.equal((await get(gw.url + '/api/x', bearer(oldToken))).status, 200, 'old key works (and the token is cached)');
  const next = makeKey('RS256', 'k2');
  idp.published = [next];
  const hits = idp.hits.jwks;
  t.equal((await get(gw.url + '/api/x', bearer(idp.token(next)))).status, 200, 'a token signed with the rotated-in key passes');
  t.equal(idp.hits.jwks, hits + 1, 'one refetch, triggered by the unknown kid');
  const stale = await get(gw.url + '/api/x', bearer(oldToken));
  t.equal(stale.status, 401, 'the cached verification of a removed key is dropped');
  t.match(stale.headers['www-authenticate'], /unknown signing key/);
});

void t.test('IdP outage: cached keys keep verifying; the failed refresh is counted; still ready', async (t) => {
  const { idp, gw, key } = await setup(t, {}, { jwksCooldownSec: 0 });
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000));
  idp.mode = 'reset';
  const forged = idp.token(makeKey('RS256', 'unknown'));
  t.equal((await get(gw.url + '/api/x', bearer(forged))).status, 401, 'an unknown kid tries a refetch, which fails');
  const errors = (await gw.metrics.jwksRefreshesTotal.get()).values.find((v) => v.labels['result'] === 'error' && v.labels['provider'] === 'corp');
  t.equal(errors?.value, 1, 'portcullis_jwks_refreshes_total{result="error"}');
  t.equal((await get(gw.url + '/api/x', bearer(idp.token(key, { sub: 'during-outage' })))).status, 200, 'a token of the cached key still passes');
  t.equal((await get(gw.adminUrl + '/readyz')).status, 200, 'stale keys are still keys: ready');
  t.ok(await eventually(() => gw.logs.some((l) => l['msg'] === 'signing key refresh failed; the cached keys stay in use')), 'logged');
});

void t.test('default config: no brake — 200 consecutive invalid tokens from one address all get 401, then a valid one passes', async (t) => {
  const { idp, gw, key } = await setup(t);
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000));
  const forger = makeKey('RS256', 'k1'); // same kid, another key: bad signatures
  const counts = new Map<number, number>();
  for (let i = 0; i < 200; i++) {
    const token = i % 2 === 0 ? idp.token(forger, { sub: `guess-${i}` }) : idp.token(key, { exp: 1 });
    const status = (await get(gw.url + '/api/x', bearer(token))).status;
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  t.same([...counts], [[401, 200]], 'every one 401 (bad signatures and expired tokens alike), never 429');
  t.equal((await get(gw.url + '/api/x', bearer(idp.token(key)))).status, 200, 'and the address is not locked out');
});

void t.test('brute-force brake on: forged tokens get 429, valid tokens from the blocked address still pass, expired ones keep 401', async (t) => {
  const { idp, gw, up, key } = await setup(t, { bruteForce: { maxFailures: 5, windowSec: 60, blockSec: 120 } });
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000));
  const cached = idp.token(key, { sub: 'cached' });
  t.equal((await get(gw.url + '/api/x', bearer(cached))).status, 200, 'a token verified (and cached) before the block');
  const forger = makeKey('RS256', 'k1');
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await get(gw.url + '/api/x', bearer(idp.token(forger, { sub: `guess-${i}` })))).status);
  t.same(statuses, [401, 401, 401, 401, 401, 429], 'the sixth bad signature is over the limit');
  const blocked = await get(gw.url + '/api/x', bearer(idp.token(forger)));
  t.equal(blocked.status, 429, 'an invalid token from the blocked address: 429');
  t.ok(Number(blocked.headers['retry-after']) > 100 && Number(blocked.headers['retry-after']) <= 120, `Retry-After ${String(blocked.headers['retry-after'])}`);
  t.equal(JSON.parse(blocked.text).error, 'rate_limited');
  t.equal((await get(gw.url + '/api/x', bearer('not-a-jwt'))).status, 429, 'an unparseable token: 429');
  const before = up.received.length;
  t.equal((await get(gw.url + '/api/x', bearer(idp.token(key, { sub: 'fresh' })))).status, 200, 'a valid token never seen before, from the blocked address: 200');
  t.equal((await get(gw.url + '/api/x', bearer(cached))).status, 200, 'a cached valid token from the blocked address: 200');
  t.equal(up.received.length, before + 2, 'both reached the upstream');
  const expired = await get(gw.url + '/api/x', bearer(idp.token(key, { exp: 1 })));
  t.equal(expired.status, 401, 'an expired token is a client bug, not a guess: 401 so the client refreshes it');
  t.match(expired.headers['www-authenticate'], /token expired/);
  t.equal((await get(gw.url + '/api/x')).status, 401, 'no token: 401');
  t.ok(await eventually(() => gw.access().filter((l) => l['decision'] === 'rate_limited').length === 3), 'decision rate_limited');
  t.equal(gw.logs.filter((l) => l['msg'] === 'too many invalid tokens: client blocked').length, 1, 'the block is logged once');
});

void t.test('expired and not-yet-valid tokens do not count toward the brake', async (t) => {
  const { gw, idp, key } = await setup(t, { bruteForce: { maxFailures: 2, windowSec: 60, blockSec: 60 } });
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000));
  for (let i = 0; i < 5; i++) t.equal((await get(gw.url + '/api/x')).status, 401, 'missing');
  for (let i = 0; i < 5; i++) t.equal((await get(gw.url + '/api/x', bearer(idp.token(key, { exp: 1 })))).status, 401, 'expired');
  for (let i = 0; i < 5; i++) t.equal((await get(gw.url + '/api/x', bearer(idp.token(key, { nbf: nowSec() + 3600 })))).status, 401, 'not yet valid');
  t.equal((await get(gw.url + '/api/x', bearer(idp.token(makeKey('RS256', 'k1'))))).status, 401, 'the first bad signature is still under the limit');
});

void t.test('identity headers come from verified claims only; forwardAuthorization: false strips every credential', async (t) => {
  const { idp, gw, up, key } = await setup(
    t, { tokenSources: [{ header: 'authorization' }, { header: 'x-access-token' }, { cookie: 'at' }] }, {},
    { identityHeaders: { 'X-User-Id': 'sub', 'X-User-Groups': 'groups' }, forwardAuthorization: false },
  );
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000));
  const token = idp.token(key, { sub: 'alice', groups: ['a', 'b'] });
  const res = await get(gw.url + '/api/x', { ...bearer(token), 'x-access-token': token, cookie: `theme=dark; at=${token}`, 'x-user-id': 'admin', 'X_User_Id': 'root' });
  t.equal(res.status, 200);
  const got = up.received.at(-1)!;
  t.equal(got.headers['x-user-id'], 'alice', 'spoofed copies removed, the verified sub set');
  t.notOk('x_user_id' in got.headers);
  t.equal(got.headers['x-user-groups'], 'a,b');
  t.notOk('authorization' in got.headers, 'no Authorization');
  t.notOk('x-access-token' in got.headers, 'no token header');
  t.equal(got.headers.cookie, 'theme=dark', 'the token cookie removed, the others kept');
});

void t.test('with forwardAuthorization (default) only the first, verified Authorization header is forwarded', async (t) => {
  const { idp, gw, up, key } = await setup(t);
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000));
  const token = idp.token(key);
  const res = await request(gw.url + '/api/x', { headers: ['authorization', `Bearer ${token}`, 'authorization', 'Bearer smuggled'] });
  await res.body.dump();
  t.equal(res.statusCode, 200);
  const raw = up.received.at(-1)!.rawHeaders;
  const auth = raw.filter((_, i) => i % 2 === 1 && raw[i - 1]!.toLowerCase() === 'authorization');
  t.same(auth, [`Bearer ${token}`]);
});

void t.test('reload: providers with an unchanged key source keep their keys (no refetch, no 503 window)', async (t) => {
  const key = makeKey('ES256', 'k');
  const idp = await TestIdp.start([key]);
  const up = await startUpstream();
  const dir = t.testdir();
  const file = join(dir, 'gw.yaml');
  const yaml = (extraRoute: string) => `
listeners: { http: { host: 127.0.0.1, port: 0 }, admin: { host: 127.0.0.1, port: 0 } }
auth: { providers: [{ name: corp, issuer: "${idp.issuer}", jwksUri: "${idp.jwksUri}", algorithms: [ES256] }] }
routes:
  - { name: api, match: { path: /api }, upstream: "${up.url}" }
${extraRoute}`;
  writeFileSync(file, yaml(''));
  const logger = pino({ level: 'warn' }, new Writable({ write: (_c, _e, cb) => cb() }));
  const deps = { logger, metrics: new GatewayMetrics({ defaultMetrics: false }) };
  const runtime = new Runtime(file, await compileGateway(await loadConfigFile(file), deps), deps, SHAPES);
  await runtime.start();
  t.teardown(async () => {
    for (const l of runtime.listeners) l.server.closeAllConnections();
    await runtime.shutdown('test');
    await Promise.all([up.close(), idp.close()]);
  });
  const port = (name: string) => (runtime.listeners.find((l) => l.name === name)!.server.address() as AddressInfo).port;
  t.ok(await eventually(() => runtime.current.notReadyReasons().length === 0, 5_000));
  const hits = idp.hits.jwks;
  writeFileSync(file, yaml(`  - { name: extra, match: { path: /extra }, upstream: "${up.url}" }`));
  t.equal(await runtime.reload(), true);
  t.same(runtime.current.notReadyReasons(), [], 'ready at once after the reload');
  t.equal((await get(`http://127.0.0.1:${port('http')}/extra/x`, bearer(idp.token(key)))).status, 200, 'new route, old keys');
  t.equal(idp.hits.jwks, hits, 'no refetch');
  const other = makeKey('ES256', 'k');
  idp.published = [other];
  writeFileSync(file, yaml('').replace(`jwksUri: "${idp.jwksUri}"`, `discovery: true`));
  t.equal(await runtime.reload(), true);
  t.ok(await eventually(() => idp.hits.discovery === 1 && runtime.current.notReadyReasons().length === 0, 5_000), 'a changed key source is fetched afresh');
  t.equal((await get(`http://127.0.0.1:${port('http')}/api/x`, bearer(idp.token(other)))).status, 200);
});
