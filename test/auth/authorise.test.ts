/**
 * Route policy through real sockets (PRODUCT §1.8): scopes (all), roles (any),
 * claims (equality or array membership) → 403 insufficient_scope with the
 * required scopes in the challenge (RFC 6750 §3.1); each with its passing twin.
 */
import t, { type Test } from 'tap';
import { request } from 'undici';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGateway, eventually, type TestGateway } from '../helpers/gateway.js';
import { makeKey, TestIdp, type TestKey } from '../helpers/idp.js';

let up: RecordingUpstream;
let idp: TestIdp;
let gw: TestGateway;
let key: TestKey;

t.before(async () => {
  key = makeKey('ES256', 'k');
  idp = await TestIdp.start([key]);
  up = await startUpstream();
  gw = await startGateway({
    auth: {
      providers: [{ name: 'corp', issuer: idp.issuer, jwksUri: idp.jwksUri, algorithms: ['ES256'], rolesClaim: 'realm_access.roles' }],
      bruteForce: { maxFailures: 0 },
    },
    routes: [
      { name: 'orders', match: { path: '/orders' }, upstream: up.url, auth: { scopes: ['orders:read', 'orders:write'] } },
      { name: 'admin', match: { path: '/admin' }, upstream: up.url, auth: { roles: ['admin', 'ops'] } },
      { name: 'tenant', match: { path: '/tenant' }, upstream: up.url, auth: { claims: { tenant: 'acme', 'org.tier': 2, groups: 'eng' } } },
      { name: 'plain', match: { path: '/plain' }, upstream: up.url, auth: {} },
    ],
  });
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000));
});
t.teardown(async () => {
  await gw.close();
  await Promise.all([up.close(), idp.close()]);
});

async function status(path: string, claims: Record<string, unknown>) {
  const res = await request(gw.url + path, { headers: { authorization: `Bearer ${idp.token(key, claims)}` } });
  const text = await res.body.text();
  return { status: res.statusCode, challenge: res.headers['www-authenticate'], error: text === '' ? null : (JSON.parse(text) as { error: string }).error };
}

async function forbidden(t: Test, path: string, claims: Record<string, unknown>, reason: string, what: string) {
  const before = up.received.length;
  const metric = async () => (await gw.metrics.authFailuresTotal.get()).values.find((v) => v.labels['reason'] === reason && v.labels['provider'] === 'corp')?.value ?? 0;
  const counted = await metric();
  const res = await status(path, claims);
  t.equal(res.status, 403, `${what}: 403`);
  t.equal(res.error, 'insufficient_scope', `${what}: JSON error`);
  t.match(res.challenge, /^Bearer realm="portcullis", error="insufficient_scope", error_description="[^"]+"/, `${what}: challenge`);
  t.equal(await metric(), counted + 1, `${what}: counted as ${reason}`);
  t.equal(up.received.length, before, `${what}: upstream not hit`);
  return res;
}

void t.test('scopes: all required, from a space-separated scope or an scp array', async (t) => {
  const res = await forbidden(t, '/orders', { scope: 'orders:read' }, 'insufficient_scope', 'one of two scopes');
  t.match(res.challenge, /, scope="orders:read orders:write"$/, 'the challenge lists the required scopes');
  await forbidden(t, '/orders', {}, 'insufficient_scope', 'no scope claim');
  await forbidden(t, '/orders', { scope: 'orders:read,orders:write' }, 'insufficient_scope', 'comma-separated is one scope');
  await forbidden(t, '/orders', { scope: 'orders:rea orders:write' }, 'insufficient_scope', 'prefix of a scope');
  t.equal((await status('/orders', { scope: 'profile orders:write orders:read' })).status, 200, 'twin: both scopes');
  t.equal((await status('/orders', { scp: ['orders:read', 'orders:write'] })).status, 200, 'twin: scp array');
});

void t.test('roles: any one of, at the dotted rolesClaim path', async (t) => {
  await forbidden(t, '/admin', { realm_access: { roles: ['user'] } }, 'missing_role', 'no accepted role');
  await forbidden(t, '/admin', { roles: ['admin'] }, 'missing_role', 'role at the wrong path');
  await forbidden(t, '/admin', { realm_access: { roles: 'administrator' } }, 'missing_role', 'a longer role name');
  t.equal((await status('/admin', { realm_access: { roles: ['user', 'ops'] } })).status, 200, 'twin: one of the roles');
  t.equal((await status('/admin', { realm_access: { roles: 'admin user' } })).status, 200, 'twin: roles as a space-separated string');
});

void t.test('claims: equality by dotted path with matching types, or membership in an array claim', async (t) => {
  const good = { tenant: 'acme', org: { tier: 2 }, groups: ['ops', 'eng'] };
  t.equal((await status('/tenant', good)).status, 200, 'all claims match');
  t.equal((await status('/tenant', { ...good, groups: 'eng' })).status, 200, 'a scalar equal to the value');
  await forbidden(t, '/tenant', { ...good, tenant: 'other' }, 'claim_mismatch', 'another tenant');
  await forbidden(t, '/tenant', { ...good, tenant: 'ACME' }, 'claim_mismatch', 'case differs');
  await forbidden(t, '/tenant', { ...good, org: { tier: '2' } }, 'claim_mismatch', 'number required, string given');
  await forbidden(t, '/tenant', { ...good, groups: ['engineering'] }, 'claim_mismatch', 'not in the array');
  await forbidden(t, '/tenant', { tenant: 'acme', groups: ['eng'] }, 'claim_mismatch', 'missing nested claim');
});

void t.test('a route with an empty auth object only needs a valid token', async (t) => {
  t.equal((await status('/plain', {})).status, 200);
  t.match(gw.runtime.current.routes.routes.find((r) => r.name === 'plain')!.describe(), /stages auth → waf;/, 'no authorise stage when nothing is required');
  t.match(gw.runtime.current.routes.routes.find((r) => r.name === 'orders')!.describe(), /stages auth → authorise → waf;/);
});
