/**
 * The deployment shapes of `redis` (PRODUCT §3) against real servers: a 3-master Redis Cluster
 * created by the test, and a Sentinel in front of a master.
 */
import t from 'tap';
import { bucketSpec } from '../../src/ratelimit/bucket.js';
import { compileClientKey } from '../../src/ratelimit/keys.js';
import { startCluster, startRedis } from '../helpers/redis.js';
import { makeCtx } from './ctx.js';
import { makeStore, redisConfig } from './store-kit.js';

// Started before the test is declared, so a machine that cannot run one reports a skip with the reason.
const cluster = await startCluster();
const noCluster = 'skip' in cluster ? `no Redis Cluster on this machine: ${cluster.skip}` : false;

void t.test('Redis Cluster: buckets spread over the masters and decide as on one server', { skip: noCluster }, async (t) => {
  if ('skip' in cluster) return;
  t.teardown(() => cluster.stop());
  const kit = makeStore(redisConfig({ cluster: cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })) }));
  t.teardown(() => kit.close());
  await kit.ready();
  const key = compileClientKey('ip', 'portcullis:', 'per-ip');
  const spec = bucketSpec(2, 0.01);
  const decisions: boolean[] = [];
  for (let i = 0; i < 30; i++) {
    const k = key.keyOf(makeCtx({ ip: `10.0.0.${i}` }));
    for (let j = 0; j < 3; j++) decisions.push((await kit.store.take(k, spec)).allowed);
  }
  t.same(decisions, Array.from({ length: 30 }, () => [true, true, false]).flat(), 'each client: 2 allowed, then denied');
  const sizes = await Promise.all(cluster.nodes.map(async (n) => Number((await n.command('DBSIZE')).slice(1))));
  t.equal(sizes.reduce((a, b) => a + b, 0), 30, `30 buckets, one key each: ${sizes.join(' + ')}`);
  t.ok(sizes.filter((s) => s > 0).length >= 2, 'the hash tags spread them over several masters');
  t.equal(await kit.errors(), 0);
});

void t.test('Redis Sentinel: the master is found through the sentinel', async (t) => {
  const master = await startRedis();
  const sentinel = await startRedis({ sentinelFor: { name: 'portcullis-master', masterPort: master.port } });
  t.teardown(async () => { await sentinel.stop(); await master.stop(); });
  const kit = makeStore(redisConfig({ sentinels: [{ host: '127.0.0.1', port: sentinel.port }], name: 'portcullis-master' }));
  t.teardown(() => kit.close());
  await kit.ready();
  const spec = bucketSpec(1, 0.01);
  t.equal((await kit.store.take('portcullis:rl:{s:v:a}', spec)).allowed, true);
  t.equal((await kit.store.take('portcullis:rl:{s:v:a}', spec)).allowed, false);
  t.equal(await master.command('EXISTS portcullis:rl:{s:v:a}'), ':1', 'the bucket lives on the master');
});
