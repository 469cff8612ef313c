/**
 * Rate limiting through real sockets: the fields on forwarded and denied responses, the 429
 * body, the access log, metrics and /readyz — in process and shared through Redis.
 */
import t from 'tap';
import { request } from 'undici';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGateway, eventually, type TestGateway } from '../helpers/gateway.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let up: RecordingUpstream;
let redis: RedisServer;
t.before(async () => {
  // This upstream advertises its own limit on /own, as an origin behind the gateway might.
  up = await startUpstream((req, res) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (req.url === '/own') headers['ratelimit'] = '"origin";r=7;t=3';
    res.writeHead(200, headers);
    res.end('{"ok":true}');
  });
  redis = await startRedis();
});
t.teardown(async () => {
  await up.close();
  await redis.stop();
});

function config(extra: Record<string, unknown> = {}) {
  return {
    rateLimits: { policies: { tight: { key: 'ip', capacity: 2, refillPerSecond: 0.5 } } },
    routes: [
      { name: 'limited', match: { path: '/' }, auth: 'none', upstream: up.url, rateLimit: 'tight' },
    ],
    ...extra,
  };
}

async function get(gw: TestGateway, path: string) {
  const res = await request(gw.url + path);
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

for (const shared of [false, true]) {
  void t.test(shared ? 'shared through Redis' : 'in process', async (t) => {
    const gw = await startGateway(config(shared ? { redis: { url: redis.url, keyPrefix: 'gw-test:' } } : {}));
    t.teardown(() => gw.close());
    if (shared) t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000), 'redis connected');
    const before = up.received.length;

    const ok = await get(gw, '/own');
    t.equal(ok.status, 200);
    t.equal(ok.headers['ratelimit-policy'], '"tight";q=2;w=4', 'RateLimit-Policy on a forwarded response');
    t.same(ok.headers['ratelimit'], ['"origin";r=7;t=3', '"tight";r=1;t=2'], "the origin's own field is kept, ours appended");
    t.notOk('retry-after' in ok.headers, 'no Retry-After on an allowed response');

    const ok2 = await get(gw, '/x');
    t.equal(ok2.headers['ratelimit'], '"tight";r=0;t=4');

    const denied = await get(gw, '/x');
    t.equal(denied.status, 429);
    t.equal(denied.headers['content-type'], 'application/json');
    t.same(JSON.parse(denied.text), { error: 'rate_limited', requestId: denied.headers['x-request-id'] });
    t.equal(denied.headers['retry-after'], '2', 'Retry-After: seconds to the next token, rounded up');
    t.equal(denied.headers['ratelimit-policy'], '"tight";q=2;w=4');
    t.equal(denied.headers['ratelimit'], '"tight";r=0;t=2', 't equals Retry-After on a 429 (draft-11 §6)');
    t.equal(up.received.length, before + 2, 'the denied request never reached the upstream');

    t.ok(await eventually(() => gw.access().length >= 3));
    const line = gw.access().at(-1)!;
    t.same([line['status'], line['decision'], line['route']], [429, 'rate_limited', 'limited']);
    const metrics = await (await request(gw.adminUrl + '/metrics')).body.text();
    t.match(metrics, /portcullis_ratelimit_rejections_total\{route="limited",policy="tight"\} 1/);
    const ready = await request(gw.adminUrl + '/readyz');
    t.equal(ready.statusCode, 200);
    await ready.body.dump();
  });
}

void t.test('a route without rateLimit carries no fields; a later denial on a limited route does', async (t) => {
  const gw = await startGateway({
    rateLimits: { policies: { roomy: { key: 'ip', capacity: 100, refillPerSecond: 100 } } },
    routes: [
      { name: 'free', match: { path: '/free' }, auth: 'none', upstream: up.url },
      { name: 'broken', match: { path: '/broken' }, auth: 'none', upstream: 'http://127.0.0.1:1', rateLimit: 'roomy' },
    ],
  });
  t.teardown(() => gw.close());
  const free = await get(gw, '/free');
  t.equal(free.status, 200);
  t.notOk('ratelimit' in free.headers || 'ratelimit-policy' in free.headers);
  const broken = await get(gw, '/broken');
  t.equal(broken.status, 502, 'the upstream is down');
  t.equal(broken.headers['ratelimit'], '"roomy";r=99;t=1', 'the 502 still tells the client its quota');
});
