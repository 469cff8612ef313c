/**
 * A session's claims work like a token's: route roles and claims (403 insufficient_scope when
 * missing), identity headers, rate-limit keys by sub; and secret rotation across a restart.
 */
import t from 'tap';
import { CookieClient } from '../helpers/cookie-client.js';
import { SECRET_A, SECRET_B, startBed, type Bed } from './fixture.js';

let bed: Bed;
t.before(async () => {
  bed = await startBed({
    extra: { rateLimits: { policies: { 'per-user': { key: 'sub', capacity: 3, refillPerSecond: 0.001 } } } },
  });
  const routes = bed.doc['routes'] as Record<string, unknown>[];
  const app = routes[1]!;
  routes.splice(1, 0,
    { name: 'staff', match: { path: '/staff' }, upstream: app['upstream'], auth: { login: 'op', roles: ['staff'], claims: { email_verified: true } }, identityHeaders: { 'X-User-Roles': 'roles' } },
    { name: 'admin', match: { path: '/admin' }, upstream: app['upstream'], auth: { login: 'op', roles: ['admin'] } },
    { name: 'limited', match: { path: '/limited' }, upstream: app['upstream'], auth: { login: 'op' }, rateLimit: 'per-user' },
  );
  await bed.restart(bed.doc);
});
t.teardown(() => bed.close());

void t.test('roles, claims, identity headers and rate-limit keys read the session', async (t) => {
  const c = new CookieClient();
  const hops = await c.follow(`${bed.base}/staff/home`);
  t.equal(hops.at(-1)!.status, 200, 'role staff and email_verified: allowed');
  t.equal(bed.upstream.received.at(-1)!.headers['x-user-roles'], 'staff');
  const admin = await c.send(`${bed.base}/admin`);
  t.equal(admin.status, 403, 'no admin role');
  t.match(String(admin.headers['www-authenticate']), /insufficient_scope/);
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await c.send(`${bed.base}/limited`)).status);
  t.same(statuses, [200, 200, 200, 429], 'the per-user bucket is keyed by the session\'s sub');
});

void t.test('secret rotation: old sessions open under [new, old], not under [new]', async (t) => {
  const c = new CookieClient();
  await c.follow(`${bed.base}/page`);
  t.equal((await c.send(`${bed.base}/page`)).status, 200);
  const sessions = bed.doc['sessions'] as Record<string, unknown>;
  await bed.restart({ ...bed.doc, sessions: { ...sessions, secrets: [SECRET_B, SECRET_A] } });
  t.equal((await c.send(`${bed.base}/page`)).status, 200, 'still signed in after rotation');
  await bed.restart({ ...bed.doc, sessions: { ...sessions, secrets: [SECRET_B] } });
  t.equal((await c.send(`${bed.base}/page`)).status, 302, 'the old secret dropped: sign in again');
});
