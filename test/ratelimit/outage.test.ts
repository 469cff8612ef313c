/**
 * Redis going away under load and coming back (PRODUCT §7): `open` never answers 5xx, `closed`
 * answers 503, both recover without a restart; /readyz follows Redis; the outage is logged once.
 */
import t from 'tap';
import { request } from 'undici';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGateway, eventually, type TestGateway } from '../helpers/gateway.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { sleep } from './store-kit.js';

let up: RecordingUpstream;
t.before(async () => { up = await startUpstream(); });
t.teardown(() => up.close());

async function limitedGateway(redis: RedisServer, failMode: 'open' | 'closed'): Promise<TestGateway> {
  const gw = await startGateway({
    redis: { url: redis.url, commandTimeoutMs: 50 },
    rateLimits: { failMode, policies: { roomy: { key: 'ip', capacity: 100_000, refillPerSecond: 100_000 } } },
    routes: [{ name: 'api', match: { path: '/' }, auth: 'none', upstream: up.url, rateLimit: 'roomy' }],
  });
  if (!await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000)) throw new Error('redis never connected');
  return gw;
}

/** Sends requests from `workers` loops until `stop` is set; records every status and the slowest one. */
function load(gw: TestGateway, workers: number) {
  const statuses = new Map<number, number>();
  const bodies: string[] = [];
  let slowestMs = 0;
  let stop = false;
  const loop = async (): Promise<void> => {
    while (!stop) {
      const started = performance.now();
      const res = await request(gw.url + '/x');
      const text = await res.body.text();
      slowestMs = Math.max(slowestMs, performance.now() - started);
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500 && bodies.length < 3) bodies.push(text);
    }
  };
  const running = Promise.all(Array.from({ length: workers }, loop));
  return {
    statuses, bodies,
    get slowestMs() { return slowestMs; },
    async stop() { stop = true; await running; },
    reset() { statuses.clear(); slowestMs = 0; },
  };
}

async function readyz(gw: TestGateway): Promise<{ status: number; body: { reasons?: string[] } }> {
  const res = await request(gw.adminUrl + '/readyz');
  return { status: res.statusCode, body: (await res.body.json()) as { reasons?: string[] } };
}

void t.test('failMode open: Redis killed and restarted under load, no 5xx, recovery by itself', async (t) => {
  const redis = await startRedis();
  const gw = await limitedGateway(redis, 'open');
  t.teardown(async () => { await gw.close(); await redis.stop(); });
  const traffic = load(gw, 8);
  await sleep(300);
  await redis.stop();
  await sleep(700);
  const down = await readyz(gw);
  t.equal(down.status, 503, '/readyz is 503 while Redis is away');
  t.match(down.body.reasons?.join(' '), /redis: unreachable/);
  await redis.start();
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000), 'reconnected without a restart');
  await sleep(300);
  await traffic.stop();
  t.same([...traffic.statuses.keys()], [200], `only 200s: ${JSON.stringify([...traffic.statuses])}`);
  t.equal((await readyz(gw)).status, 200);
  t.not(await redis.command('DBSIZE'), ':0', 'buckets are written to the restarted Redis again');

  const lines = gw.logs.filter((l) => l['redis'] !== undefined).map((l) => l['redis']);
  t.same(lines, ['up', 'down', 'up'], 'state changes logged once each, never per request');
  const metrics = await (await request(gw.adminUrl + '/metrics')).body.text();
  const errors = Number(/portcullis_redis_errors_total (\d+)/.exec(metrics)?.[1] ?? 0);
  t.ok(errors > 0, `portcullis_redis_errors_total ${errors}`);
});

void t.test('failMode open: a stalled Redis costs at most about commandTimeoutMs, then is skipped', async (t) => {
  const redis = await startRedis();
  const gw = await limitedGateway(redis, 'open');
  t.teardown(async () => { redis.resume(); await gw.close(); await redis.stop(); });
  redis.pause();
  const traffic = load(gw, 4);
  await sleep(1_000);
  await traffic.stop();
  redis.resume();
  t.same([...traffic.statuses.keys()], [200]);
  t.ok(traffic.slowestMs < 400, `slowest request ${traffic.slowestMs.toFixed(0)} ms (commandTimeoutMs 50, probes every 500 ms)`);
  const total = [...traffic.statuses.values()].reduce((a, b) => a + b, 0);
  t.ok(total > 50, `${total} requests in 1 s: the stall did not serialise them on Redis`);
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 3_000), 'a probe found Redis again');
});

void t.test('failMode closed: 503 unavailable while Redis is away, then back to normal', async (t) => {
  const redis = await startRedis();
  const gw = await limitedGateway(redis, 'closed');
  t.teardown(async () => { await gw.close(); await redis.stop(); });
  const before = await request(gw.url + '/x');
  t.equal(before.statusCode, 200);
  await before.body.dump();
  await redis.stop();
  await sleep(100);
  const res = await request(gw.url + '/x');
  t.equal(res.statusCode, 503);
  t.equal(res.headers['retry-after'], '1');
  t.same(await res.body.json(), { error: 'unavailable', requestId: res.headers['x-request-id'] });
  t.ok(await eventually(() => gw.access().some((l) => l['status'] === 503)));
  t.equal(gw.access().find((l) => l['status'] === 503)!['decision'], 'upstream_error');
  await redis.start();
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000), 'reconnected');
  const after = await request(gw.url + '/x');
  t.equal(after.statusCode, 200);
  await after.body.dump();
});
