/**
 * Cache headers of allows (forward-auth/cache.ts), unit and through the listener: no-store by
 * default and for every route that is not decided by the token alone; with cacheMaxAgeSec, a
 * max-age never past the token's exp and Vary on every token source.
 */
import t from 'tap';
import { CachePolicy } from '../../src/forward-auth/cache.js';
import type { Identity, RouteRef, Stage } from '../../src/contract/types.js';
import { CONTINUE } from '../../src/contract/types.js';
import { ask, shippedDocCacheableAdmin, startAuthGateway, token } from './fixture.js';

const stage = (name: string): Stage => ({ name, handle: () => CONTINUE });
const route = (...names: string[]): RouteRef => ({ name: 'r', stages: names.map(stage) });
const who = (exp: unknown): Identity => ({ provider: 'p', sub: 'a', claims: { sub: 'a', exp } });

void t.test('CachePolicy', async (t) => {
  const now = 1_000_000;
  const p = new CachePolicy(60, ['authorization', 'x-api-token']);
  t.equal(p.vary, 'Authorization, Cookie, x-api-token');
  t.equal(p.allowCacheControl(route('auth', 'authorise'), who(now + 3600), now), 'max-age=60');
  t.equal(p.allowCacheControl(route('auth'), who(now + 10.9), now), 'max-age=10', 'never past exp');
  t.equal(p.allowCacheControl(route('auth'), who(now + 0.5), now), null, 'less than a second left');
  t.equal(p.allowCacheControl(route('auth'), who('soon'), now), null, 'no numeric exp: no-store');
  t.equal(p.allowCacheControl(route(), null, now), 'max-age=60', 'auth: none, no stage at all');
  for (const other of ['ratelimit', 'netpolicy', 'waf', 'clientcert']) {
    t.equal(p.allowCacheControl(route('auth', other), who(now + 3600), now), null, other);
  }
  t.equal(new CachePolicy(0, []).allowCacheControl(route('auth'), who(now + 3600), now), null, 'off by default');
});

void t.test('through the listener: headers of allows and denials', async (t) => {
  const pc = await startAuthGateway(await shippedDocCacheableAdmin(), { cacheMaxAgeSec: 30 });
  t.teardown(() => pc.close());
  const admin = { authorization: `Bearer ${await token('ann', { scope: 'admin', ttl: '20s' })}` };
  const ok = await ask(pc.url + '/nginx', { 'x-original-uri': '/admin', 'x-original-method': 'GET', ...admin });
  t.equal(ok.status, 200);
  // min(30, seconds left of the 20 s token): 20 less however long minting and asking took here.
  const maxAge = Number(/^max-age=(\d+)$/.exec(String(ok.headers['cache-control']))?.[1]);
  t.ok(maxAge <= 20 && maxAge >= 12, `bounded by the 20 s token (${String(ok.headers['cache-control'])})`);
  t.equal(ok.headers['vary'], 'Authorization, Cookie');
  const limited = await ask(pc.url + '/envoy/api/x', admin);
  t.equal(limited.status, 200);
  t.equal(limited.headers['cache-control'], 'no-store', 'rate-limited route');
  t.equal(limited.headers['vary'], undefined);
  const denied = await ask(pc.url + '/traefik', { 'x-forwarded-uri': '/admin', 'x-forwarded-method': 'GET' });
  t.equal(denied.status, 401);
  t.equal(denied.headers['cache-control'], 'no-store', 'denials are never cacheable');
});
