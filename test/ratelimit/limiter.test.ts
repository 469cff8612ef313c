/**
 * The limiter's routing between stores, and the promise behind it: the Redis script and the
 * in-process bucket decide the same request sequence the same way.
 */
import t from 'tap';
import { bucketSpec, type BucketDecision } from '../../src/ratelimit/bucket.js';
import { DenyCache } from '../../src/ratelimit/deny-cache.js';
import { RateLimiter, type Outcome } from '../../src/ratelimit/limiter.js';
import { LocalStore } from '../../src/ratelimit/local-store.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { makeStore, redisConfig, sleep, type StoreKit } from './store-kit.js';

const now = (): number => performance.now();
let redis: RedisServer;
const kits: StoreKit[] = [];

t.before(async () => {
  redis = await startRedis();
});
t.teardown(async () => {
  await Promise.all(kits.map((k) => k.close()));
  await redis.stop();
});

async function kit(failMode: 'open' | 'closed' = 'open'): Promise<StoreKit> {
  const k = makeStore(redisConfig({ url: redis.url }), failMode);
  kits.push(k);
  await k.ready();
  return k;
}

function limiterOf(k: StoreKit | null, failMode: 'open' | 'closed' = 'open'): RateLimiter {
  return new RateLimiter(new LocalStore(1000, now), k?.store ?? null, k ? new DenyCache(100, now) : null, failMode);
}

void t.test('Redis and in-process stores give the same decisions on the same sequence', async (t) => {
  const spec = bucketSpec(3, 5); // a token every 200 ms
  const remote = limiterOf(await kit());
  const local = limiterOf(null);
  const seen: { remote: BucketDecision; local: BucketDecision }[] = [];
  const step = async (key: string, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const r = (await remote.take(`portcullis:rl:{eq:v:${key}}`, spec))!;
      const l = local.take(`rl:{eq:v:${key}}`, spec) as BucketDecision;
      seen.push({ remote: r, local: l });
    }
  };
  await step('a', 5); // 3 allowed, 2 denied
  await step('b', 1);
  await sleep(300); // a: 1.5 tokens
  await step('a', 2);
  await sleep(450); // a: 0.5 + 2.25 = 2.75
  await step('a', 3);
  await step('b', 3);
  const brief = (d: BucketDecision) => `${d.allowed ? 'allow' : 'deny'}/${d.remaining}`;
  t.same(seen.map((s) => brief(s.remote)), seen.map((s) => brief(s.local)), 'same allow/deny and remaining, in order');
  t.same(seen.map((s) => s.local.allowed), [true, true, true, false, false, true, true, false, true, true, false, true, true, true]);
  for (const s of seen) {
    // A repeated denial comes from the deny cache, which knows only the time to the next token.
    const fullAgrees = !s.local.allowed || Math.abs(s.remote.fullMs - s.local.fullMs) <= 10;
    t.ok(Math.abs(s.remote.nextMs - s.local.nextMs) <= 10 && fullAgrees,
      `timings agree within 10 ms: next ${s.remote.nextMs}/${s.local.nextMs}, full ${s.remote.fullMs}/${s.local.fullMs}`);
  }
});

void t.test('no Redis: every decision is synchronous', async (t) => {
  const limiter = limiterOf(null);
  const spec = bucketSpec(1, 1);
  const first = limiter.take('k', spec);
  const second = limiter.take('k', spec);
  t.notOk(first instanceof Promise);
  t.same([(first as BucketDecision).allowed, (second as BucketDecision).allowed], [true, false]);
});

void t.test('a client Redis refused is answered from the deny cache, without a Redis call', async (t) => {
  const k = await kit();
  const limiter = limiterOf(k);
  const spec = bucketSpec(1, 0.5); // next token in 2 s
  const key = 'portcullis:rl:{deny:v:a}';
  t.equal((await limiter.take(key, spec))!.allowed, true);
  const refused = await limiter.take(key, spec);
  t.equal(refused!.allowed, false);
  await redis.command('CONFIG RESETSTAT');
  const cached = limiter.take(key, spec);
  t.notOk(cached instanceof Promise, 'synchronous');
  const d = cached as BucketDecision;
  t.same([d.allowed, d.remaining], [false, 0]);
  t.ok(d.nextMs > 1500 && d.nextMs <= 2000, `still ${d.nextMs.toFixed(0)} ms to wait`);
  for (let i = 0; i < 50; i++) t.notOk(limiter.take(key, spec) instanceof Promise);
  t.notMatch(await redis.command('INFO commandstats'), /cmdstat_evalsha/, 'Redis saw no EVALSHA');
});

void t.test('Redis down: open decides in process at once; closed answers null', async (t) => {
  const spec = bucketSpec(2, 1);
  const open = limiterOf(await kit('open'), 'open');
  const closed = limiterOf(await kit('closed'), 'closed');
  await redis.stop();
  try {
    await sleep(50); // the clients notice the closed connection
    const o: Outcome[] = [];
    for (let i = 0; i < 3; i++) {
      const d = open.take('portcullis:rl:{down:v:a}', spec);
      t.notOk(d instanceof Promise, 'no Redis call while it is known to be down');
      o.push(d as Outcome);
    }
    t.same(o.map((d) => d?.allowed), [true, true, false], 'in-process bucket, same policy');
    const c = closed.take('portcullis:rl:{down:v:a}', spec);
    t.equal(c instanceof Promise ? await c : c, null);
  } finally {
    await redis.start();
  }
});
