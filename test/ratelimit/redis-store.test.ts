/**
 * The Redis store against a real redis-server: the script's arithmetic, expiry, EVALSHA with
 * its EVAL fallback, the command deadline, and the health state machine.
 */
import t from 'tap';
import { bucketSpec } from '../../src/ratelimit/bucket.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { makeStore, redisConfig, sleep, until, type StoreKit } from './store-kit.js';

let redis: RedisServer;
let kit: StoreKit;

t.before(async () => {
  redis = await startRedis();
  kit = makeStore(redisConfig({ url: redis.url }));
  await kit.ready();
});
t.teardown(async () => {
  await kit.close();
  await redis.stop();
});

void t.test('exact burst, then continuous refill on Redis time', async (t) => {
  const spec = bucketSpec(5, 10); // a token every 100 ms
  const key = 'portcullis:rl:{burst:v:a}';
  const burst = [];
  for (let i = 0; i < 7; i++) burst.push(await kit.store.take(key, spec));
  t.same(burst.map((d) => d.allowed), [true, true, true, true, true, false, false]);
  t.same(burst.map((d) => d.remaining), [4, 3, 2, 1, 0, 0, 0]);
  const denied = burst[5]!;
  t.ok(denied.nextMs > 0 && denied.nextMs <= 100, `next token in ${denied.nextMs} ms (≤ 100)`);
  t.ok(denied.fullMs > 400 && denied.fullMs <= 500, `full in ${denied.fullMs} ms`);
  await sleep(250); // 2.5 tokens, give or take the timer's lateness
  const after = [];
  for (let i = 0; i < 4; i++) after.push((await kit.store.take(key, spec)).allowed);
  t.same(after, [true, true, false, false], 'two whole tokens after 250 ms');
});

void t.test('the takes of one event-loop turn reach Redis in one write', async (t) => {
  const spec = bucketSpec(1000, 1000);
  const reads = async (): Promise<number> => Number(/total_reads_processed:(\d+)/.exec(await redis.command('INFO stats'))?.[1]);
  const before = await reads();
  // 40 requests decided in the same turn, as under load; each still gets its own decision.
  const decisions = await Promise.all(Array.from({ length: 40 }, (_, i) => kit.store.take(`portcullis:rl:{turn:v:${i % 4}}`, spec)));
  const delta = (await reads()) - before;
  t.same(decisions.map((d) => d.allowed), Array(40).fill(true));
  t.same(decisions.filter((_, i) => i % 4 === 0).map((d) => d.remaining), [999, 998, 997, 996, 995, 994, 993, 992, 991, 990], 'in order');
  // One read for the batch, plus the INFO connections' own (uncoalesced, that is about 40).
  t.ok(delta <= 6, `Redis read the 40 EVALSHAs in ${delta} reads (INFO included)`);
});

void t.test('an allowed take expires the key when the bucket would be full again, plus 1 s', async (t) => {
  const spec = bucketSpec(10, 2); // one take: full again in 500 ms
  const key = 'portcullis:rl:{ttl:v:a}';
  await kit.store.take(key, spec);
  const pttl = Number((await redis.command(`PTTL ${key}`)).slice(1));
  t.ok(pttl > 1300 && pttl <= 1500, `PTTL ${pttl} ≈ 500 + 1000`);
  const stored = await redis.command(`GET ${key}`);
  t.match(stored, /^9 \d+(\.\d+)?$/, `stored "<tokens> <ms>": ${stored}`);
  const denyKey = 'portcullis:rl:{ttl:v:b}';
  const one = bucketSpec(1, 0.01);
  await kit.store.take(denyKey, one);
  const before = await redis.command(`GET ${denyKey}`);
  t.equal((await kit.store.take(denyKey, one)).allowed, false);
  t.equal(await redis.command(`GET ${denyKey}`), before, 'a denial writes nothing');
});

void t.test('EVALSHA on the hot path, EVAL only when Redis lost the script', async (t) => {
  const spec = bucketSpec(1000, 1000);
  const stat = async (name: string): Promise<number> => {
    const info = await redis.command('INFO commandstats');
    const m = new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info);
    return m ? Number(m[1]) : 0;
  };
  await redis.command('CONFIG RESETSTAT');
  for (let i = 0; i < 20; i++) await kit.store.take('portcullis:rl:{sha:v:a}', spec);
  t.equal(await stat('evalsha'), 20, '20 EVALSHA');
  t.equal(await stat('eval'), 0, 'no EVAL: the script was already sent on this connection');
  t.equal(await redis.command('SCRIPT FLUSH'), '+OK');
  const d = await kit.store.take('portcullis:rl:{sha:v:a}', spec);
  t.equal(d.allowed, true, 'still decided after SCRIPT FLUSH (NOSCRIPT → EVAL)');
  t.equal(await stat('eval'), 1);
  t.equal(await kit.errors(), 0, 'the NOSCRIPT round is not an error');
});

void t.test('a stalled Redis costs one commandTimeoutMs, is skipped while down, and is found again by a probe', async (t) => {
  const spec = bucketSpec(100, 100);
  const key = 'portcullis:rl:{stall:v:a}';
  const errorsBefore = await kit.errors();
  redis.pause();
  try {
    const started = performance.now();
    await t.rejects(kit.store.take(key, spec), /timed out/i);
    const took = performance.now() - started;
    t.ok(took >= 45 && took < 500, `rejected after ${took.toFixed(0)} ms (commandTimeoutMs 50)`);
    t.equal(kit.store.up, false);
    t.equal(kit.store.usable(), false, 'skipped at once while down');
    t.match(kit.store.notReadyReason(), /unreachable/);
    t.equal(await kit.errors(), errorsBefore + 1, 'portcullis_redis_errors_total counted it');
  } finally {
    redis.resume();
  }
  await until(() => kit.store.usable(), 2_000, 'a background PING to succeed');
  t.equal((await kit.store.take(key, spec)).allowed, true);
  t.equal(kit.store.up, true);
  t.equal(kit.store.notReadyReason(), null);
  const down = kit.logs.filter((l) => l['redis'] === 'down');
  const up = kit.logs.filter((l) => l['redis'] === 'up');
  t.equal(down.length, 1, 'one line for the outage');
  t.equal(up.length, 2, 'connected, then back');
});
