/**
 * The stage as compiled from config (compile.ts), driven with request contexts as the pipeline
 * builds them, an identity set as the auth stage would: keys by sub, ip, claim and header, on
 * Redis and in process; the verdicts and the fields it leaves on ctx.responseHeaders.
 */
import t from 'tap';
import { validateConfig } from '../../src/config/validate.js';
import { GatewayMetrics } from '../../src/observe/metrics.js';
import { CONTINUE, type Respond, type Stage, type Verdict } from '../../src/contract/types.js';
import { RateLimits } from '../../src/ratelimit/compile.js';
import { RedisStore } from '../../src/ratelimit/redis-store.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { identity, makeCtx } from './ctx.js';
import { captureLogger, until } from './store-kit.js';

let redis: RedisServer;
const opened: RateLimits[] = [];
t.before(async () => { redis = await startRedis(); });
t.teardown(async () => {
  await Promise.all(opened.flatMap((r) => r.resources.map((x) => x.close())));
  await redis.stop();
});

const POLICIES = {
  'per-user': { key: 'sub', capacity: 2, refillPerSecond: 0.01 },
  'per-ip': { key: 'ip', capacity: 2, refillPerSecond: 0.01 },
  'per-tenant': { key: 'claim:org.id', capacity: 2, refillPerSecond: 0.01 },
  'per-key': { key: 'header:X-Api-Key', capacity: 2, refillPerSecond: 0.01 },
};

async function compile(withRedis: boolean) {
  const cfg = validateConfig({
    listeners: { http: { host: '127.0.0.1', port: 0 } },
    ...(withRedis ? { redis: { url: redis.url, keyPrefix: `t${opened.length}:` } } : {}),
    rateLimits: { policies: POLICIES },
    routes: Object.keys(POLICIES).map((p) => ({ name: `r-${p}`, match: {}, auth: 'none', upstream: 'http://127.0.0.1:1', rateLimit: p })),
  });
  const { logger } = captureLogger();
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const limits = new RateLimits(cfg, { logger, metrics });
  opened.push(limits);
  const store = limits.resources.find((r): r is RedisStore => r instanceof RedisStore);
  if (withRedis) await until(() => store!.up, 5_000, 'redis up');
  const stages = new Map<string, Stage>(cfg.routes.map((r) => [r.rateLimit!, limits.stageFor(r)!]));
  return { stages, metrics };
}

async function verdictOf(stage: Stage, ctx = makeCtx()): Promise<Verdict> {
  return stage.handle(ctx);
}

for (const withRedis of [true, false]) {
  const store = withRedis ? 'Redis' : 'in process';

  void t.test(`${store}: each key kind has its own buckets, and a missing value falls back to ip`, async (t) => {
    const { stages } = await compile(withRedis);
    const run = async (policy: string, ctxs: ReturnType<typeof makeCtx>[]) => {
      const out: string[] = [];
      for (const ctx of ctxs) {
        const v = await verdictOf(stages.get(policy)!, ctx);
        out.push(v === CONTINUE ? 'ok' : String((v as Respond).status));
      }
      return out;
    };
    const alice = () => makeCtx({ identity: identity('alice', { org: { id: 'acme' } }) });
    const bob = () => makeCtx({ identity: identity('bob', { org: { id: 'acme' } }) });
    t.same(await run('per-user', [alice(), alice(), alice(), bob(), bob(), bob()]), ['ok', 'ok', '429', 'ok', 'ok', '429'], 'sub');
    t.same(await run('per-user', [makeCtx(), makeCtx(), makeCtx()]), ['ok', 'ok', '429'], 'no identity → the ip bucket');
    t.same(await run('per-tenant', [alice(), bob(), alice()]), ['ok', 'ok', '429'], 'claim: alice and bob share acme');
    t.same(await run('per-tenant', [makeCtx({ identity: identity('carol') }), makeCtx({ ip: '192.0.2.99' })]), ['ok', 'ok'],
      'no such claim → ip (a fresh bucket per address)');
    const key = (k: string, ip = '192.0.2.1') => makeCtx({ ip, headers: { 'x-api-key': k } });
    t.same(await run('per-key', [key('k1'), key('k1', '192.0.2.2'), key('k1'), key('k2')]), ['ok', 'ok', '429', 'ok'],
      'header: one bucket per key value, whatever the address');
    t.same(await run('per-ip', [makeCtx({ ip: '198.51.100.1' }), makeCtx({ ip: '198.51.100.1', identity: identity('x') }), makeCtx({ ip: '198.51.100.1' }), makeCtx({ ip: '198.51.100.2' })]),
      ['ok', 'ok', '429', 'ok'], 'ip');
  });

  void t.test(`${store}: verdicts, fields on ctx.responseHeaders, the rejection metric`, async (t) => {
    const { stages, metrics } = await compile(withRedis);
    const stage = stages.get('per-key')!;
    const ctx = () => makeCtx({ headers: { 'x-api-key': 'fields' } });
    const first = ctx();
    t.equal(await verdictOf(stage, first), CONTINUE);
    t.same(first.responseHeaders, ['ratelimit-policy', '"per-key";q=2;w=200', 'ratelimit', '"per-key";r=1;t=100']);
    await verdictOf(stage, ctx());
    const denied = ctx();
    const v = (await verdictOf(stage, denied)) as Respond;
    t.same(v, { kind: 'respond', status: 429, decision: 'rate_limited', error: 'rate_limited', headers: { 'retry-after': '100' } });
    t.same(denied.responseHeaders, ['ratelimit-policy', '"per-key";q=2;w=200', 'ratelimit', '"per-key";r=0;t=100'],
      'the 429 carries the fields too, t = Retry-After');
    const counted = (await metrics.ratelimitRejectionsTotal.get()).values;
    t.same(counted.map((c) => [c.labels, c.value]), [[{ route: 'r-per-key', policy: 'per-key' }, 1]]);
  });

  void t.test(`${store}: synchronous where no I/O is needed`, async (t) => {
    const { stages } = await compile(withRedis);
    const stage = stages.get('per-ip')!;
    const ip = makeCtx({ ip: '203.0.113.5' });
    const first = stage.handle(ip);
    t.equal(first instanceof Promise, withRedis, withRedis ? 'Redis: a Promise' : 'in process: a plain verdict');
    await first;
    await stage.handle(makeCtx({ ip: '203.0.113.5' }));
    const refused = await stage.handle(makeCtx({ ip: '203.0.113.5' }));
    t.equal((refused as Respond).status, 429);
    const again = stage.handle(makeCtx({ ip: '203.0.113.5' }));
    t.notOk(again instanceof Promise, 'a refused client is answered synchronously (deny cache or local bucket)');
    t.equal((again as Respond).status, 429);
  });
}

void t.test('Redis keys carry the prefix and a per-bucket hash tag', async (t) => {
  const { stages } = await compile(true);
  const n = opened.length - 1;
  await verdictOf(stages.get('per-user')!, makeCtx({ identity: identity('dora') }));
  await verdictOf(stages.get('per-ip')!, makeCtx({ ip: '2001:db8::7' }));
  t.equal(await redis.command(`EXISTS t${n}:rl:{per-user:v:dora}`), ':1');
  t.equal(await redis.command(`EXISTS t${n}:rl:{per-ip:i:2001:db8::7}`), ':1');
});
