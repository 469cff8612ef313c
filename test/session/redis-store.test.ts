/**
 * `sessions.store: redis` against a real redis-server, and token refresh against the real OP:
 * the cookie holds an opaque id, the session (sealed) lives in Redis with a TTL, survives a
 * gateway restart, can be revoked by deleting its key, and is deleted by sign-out; tokens are
 * refreshed before the access token expires, and a refused refresh ends the session.
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import { CookieClient } from '../helpers/cookie-client.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startBed, type Bed } from './fixture.js';

let redis: RedisServer;
let bed: Bed;
t.before(async () => {
  redis = await startRedis();
  bed = await startBed({
    // Access tokens for 30 s, refreshed 60 s before expiry: every request refreshes (the shortest loop a test can have).
    accessTokenTtlSec: 30,
    sessions: { store: 'redis', ttlSec: 3600, idleTtlSec: 600 },
    extra: { redis: { url: redis.url, keyPrefix: 'pt:', commandTimeoutMs: 500 } },
  });
});
t.teardown(async () => {
  await bed.close();
  await redis.stop();
});

const keyOf = (id: string): string => 'pt:session:' + createHash('sha256').update(id).digest('base64url');

void t.test('an opaque id in the cookie, the sealed session in Redis with a TTL; it survives a restart', async (t) => {
  const c = new CookieClient();
  const hops = await c.follow(`${bed.base}/page`);
  t.equal(hops.at(-1)!.status, 200);
  const id = c.cookies(bed.base).get('portcullis_session')!;
  t.match(id, /^[A-Za-z0-9_-]{43}$/, '256 random bits, nothing else');
  const stored = await redis.command(`GET ${keyOf(id)}`);
  t.match(stored, /^eyJ[A-Za-z0-9_-]+\.\.[A-Za-z0-9_.-]+$/, 'sealed (JWE) in Redis too');
  t.notOk(stored.includes('alice'), 'nothing readable');
  const ttl = Number((await redis.command(`TTL ${keyOf(id)}`)).slice(1));
  t.ok(ttl > 500 && ttl <= 600, `TTL follows idleTtlSec (${ttl})`);

  await bed.restart();
  t.equal((await c.send(`${bed.base}/page`)).status, 200, 'still signed in after a gateway restart');
  t.equal(bed.upstream.received.at(-1)!.headers['x-user-email'], 'alice@example.test');
});

void t.test('refresh before expiry; a refused refresh ends the session', async (t) => {
  const c = new CookieClient();
  await c.follow(`${bed.base}/page`);
  const before = bed.op.tokenRequests.filter((r) => r.grantType === 'refresh_token').length;
  t.equal((await c.send(`${bed.base}/page`)).status, 200);
  const refreshes = bed.op.tokenRequests.filter((r) => r.grantType === 'refresh_token');
  t.equal(refreshes.length, before + 1, 'the access token was about to expire: refreshed');
  t.equal(refreshes.at(-1)!.status, 200);
  t.equal((await c.send(`${bed.base}/page`)).status, 200, 'refreshed again with the rotated refresh token');
  t.equal(bed.op.tokenRequests.at(-1)!.status, 200);

  const id = c.cookies(bed.base).get('portcullis_session')!;
  await bed.op.revokeGrants();
  const ended = await c.send(`${bed.base}/page`);
  t.equal(bed.op.tokenRequests.at(-1)!.status, 400, 'the OP refused the refresh');
  t.equal(ended.status, 302, 'session ended: sign in again');
  t.ok(ended.setCookies.some((s) => /^portcullis_session=;.*Max-Age=0/.test(s)), 'cookie cleared');
  t.equal(await redis.command(`EXISTS ${keyOf(id)}`), ':0', 'and the session deleted');
});

void t.test('no fixation: a planted session id is never adopted, and each sign-in issues a new one', async (t) => {
  const c = new CookieClient();
  const planted = 'P'.repeat(43);
  c.cookies(bed.base).set('portcullis_session', planted);
  await c.follow(`${bed.base}/page`);
  const first = c.cookies(bed.base).get('portcullis_session')!;
  t.not(first, planted, 'the planted id is replaced');
  t.match(first, /^[A-Za-z0-9_-]{43}$/);
  await c.follow(`${bed.base}/.portcullis/sign-in?rd=/again`);
  const second = c.cookies(bed.base).get('portcullis_session')!;
  t.not(second, first, 'signing in again issues another id');
  t.equal(await redis.command(`EXISTS ${keyOf(first)}`), ':0', 'and ends the previous session');
});

void t.test('revocation: deleting the key ends the session at once', async (t) => {
  const c = new CookieClient();
  await c.follow(`${bed.base}/page`);
  const id = c.cookies(bed.base).get('portcullis_session')!;
  t.equal(await redis.command(`DEL ${keyOf(id)}`), ':1');
  t.equal((await c.send(`${bed.base}/page`)).status, 302);
});

void t.test('sign-out deletes the session; callback replay is refused across instances (state claimed in Redis)', async (t) => {
  const c = new CookieClient();
  await c.follow(`${bed.base}/page`);
  const id = c.cookies(bed.base).get('portcullis_session')!;
  const out = await c.send(`${bed.base}/.portcullis/sign-out`, { method: 'POST', headers: { origin: bed.base }, body: '' });
  t.equal(out.status, 302);
  t.equal(await redis.command(`EXISTS ${keyOf(id)}`), ':0');
  t.not(await redis.command('KEYS pt:session:used:*'), '*0', 'used states are kept in Redis');
});
