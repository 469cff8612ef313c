/**
 * Two gateway processes (the built binary) sharing one Redis bucket: together they admit no
 * more than capacity + refillPerSecond × elapsed, where two separate buckets would admit twice.
 */
import t from 'tap';
import { request } from 'undici';
import { killAll, startProcess, type GatewayProcess } from '../helpers/process.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { redisGatewayYamlHead, startRedis, writeTempConfig, type RedisServer } from '../helpers/redis.js';
import { sleep } from './store-kit.js';

const CAPACITY = 10;
const REFILL_PER_SECOND = 2;
const LOAD_MS = 2_000;

let up: RecordingUpstream;
let redis: RedisServer;
const gateways: GatewayProcess[] = [];

t.before(async () => {
  up = await startUpstream();
  redis = await startRedis();
});
t.teardown(async () => {
  await killAll(gateways);
  await up.close();
  await redis.stop();
});

function yaml(): string {
  return [
    ...redisGatewayYamlHead(redis.url),
    'rateLimits:',
    '  policies:',
    `    shared: { key: ip, capacity: ${CAPACITY}, refillPerSecond: ${REFILL_PER_SECOND} }`,
    'routes:',
    '  - name: api',
    '    match: { path: / }',
    '    auth: none',
    `    upstream: ${up.url}`,
    '    rateLimit: shared',
    '',
  ].join('\n');
}

async function startOne(config: string): Promise<{ url: string; admin: string }> {
  const g = await startProcess(['serve', '--config', config]);
  gateways.push(g);
  await g.waitForLog((l) => l['msg'] === 'listening' && l['listener'] === 'admin');
  await g.waitForLog((l) => l['msg'] === 'listening' && l['listener'] === 'http');
  await g.waitForLog((l) => l['redis'] === 'up');
  return { url: `http://127.0.0.1:${g.port('http')}`, admin: `http://127.0.0.1:${g.port('admin')}` };
}

void t.test('two processes, one bucket', async (t) => {
  const config = writeTempConfig(yaml());
  const [a, b] = await Promise.all([startOne(config), startOne(config)]);
  for (const g of [a!, b!]) {
    const ready = await request(g.admin + '/readyz');
    t.equal(ready.statusCode, 200, 'ready: Redis reachable');
    await ready.body.dump();
  }
  const allowed = { a: 0, b: 0 };
  const other = new Map<number, number>();
  const started = performance.now();
  let last = started;
  const loop = async (name: 'a' | 'b', url: string): Promise<void> => {
    while (performance.now() - started < LOAD_MS) {
      const res = await request(url + '/x');
      await res.body.dump();
      last = Math.max(last, performance.now());
      if (res.statusCode === 200) allowed[name]++;
      else other.set(res.statusCode, (other.get(res.statusCode) ?? 0) + 1);
      await sleep(5);
    }
  };
  await Promise.all([loop('a', a!.url), loop('a', a!.url), loop('b', b!.url), loop('b', b!.url)]);
  const elapsedSec = (last - started) / 1000;
  const total = allowed.a + allowed.b;
  const bound = CAPACITY + REFILL_PER_SECOND * elapsedSec;
  t.ok(total <= Math.floor(bound) + 1, `admitted ${total} (a ${allowed.a}, b ${allowed.b}) ≤ ${CAPACITY} + ${REFILL_PER_SECOND} × ${elapsedSec.toFixed(2)} s = ${bound.toFixed(1)}`);
  t.ok(total >= CAPACITY + Math.floor(REFILL_PER_SECOND * (elapsedSec - 0.5)), `and no fewer than the burst plus most of the refill (${total})`);
  t.ok(allowed.a > 0 && allowed.b > 0, 'both processes admitted some');
  t.same([...other.keys()], [429], 'everything else was a 429');
});
