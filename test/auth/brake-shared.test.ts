/**
 * The brute-force brake through Redis (issue 14): two gateway processes (the built binary)
 * count one address's forged tokens together, and a Redis outage falls back to counting in
 * memory instead of failing requests.
 */
import t from 'tap';
import { request } from 'undici';
import { killAll, startProcess, type GatewayProcess } from '../helpers/process.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { redisGatewayYamlHead, startRedis, writeTempConfig, type RedisServer } from '../helpers/redis.js';
import { makeKey, TestIdp, type TestKey } from '../helpers/idp.js';

const MAX_FAILURES = 3;
/** Starting the binary can take a while on a loaded machine; bounded all the same. */
const START_MS = 30_000;

let up: RecordingUpstream;
let redis: RedisServer;
let idp: TestIdp;
let key: TestKey;
const gateways: GatewayProcess[] = [];

t.before(async () => {
  key = makeKey('RS256', 'k1');
  [up, redis, idp] = await Promise.all([startUpstream(), startRedis(), TestIdp.start([key])]);
});
t.teardown(async () => {
  await killAll(gateways);
  await Promise.all([up.close(), redis.stop(), idp.close()]);
});

function yaml(): string {
  return [
    ...redisGatewayYamlHead(redis.url),
    'auth:',
    '  providers:',
    `    - { name: corp, issuer: "${idp.issuer}", jwksUri: "${idp.jwksUri}", algorithms: [RS256] }`,
    `  bruteForce: { maxFailures: ${MAX_FAILURES}, windowSec: 60, blockSec: 60 }`,
    'routes:',
    '  - name: api',
    '    match: { path: / }',
    `    upstream: ${up.url}`,
    '',
  ].join('\n');
}

async function startOne(config: string): Promise<string> {
  const g = await startProcess(['serve', '--config', config]);
  gateways.push(g);
  await g.waitForLog((l) => l['msg'] === 'listening' && l['listener'] === 'http', START_MS);
  await g.waitForLog((l) => l['redis'] === 'up', START_MS);
  await g.waitForLog((l) => l['msg'] === 'signing keys loaded', START_MS);
  return `http://127.0.0.1:${g.port('http')}`;
}

async function status(url: string, token: string): Promise<number> {
  const res = await request(url + '/x', { headers: { authorization: `Bearer ${token}` } });
  await res.body.dump();
  return res.statusCode;
}

void t.test('two processes share one count', async (t) => {
  const config = writeTempConfig(yaml());
  const [a, b] = await Promise.all([startOne(config), startOne(config)]);
  const forger = makeKey('RS256', 'k1'); // the right kid, the wrong key: bad signatures
  const forged = (i: number) => idp.token(forger, { sub: `guess-${i}` });
  const seen = [await status(a!, forged(1)), await status(b!, forged(2)), await status(a!, forged(3))];
  t.same(seen, [401, 401, 401], `${MAX_FAILURES} failures spread over both processes: under the limit`);
  t.equal(await status(b!, forged(4)), 429, 'the fourth, on the other process, crosses the shared limit');
  t.equal(await status(a!, forged(5)), 429, 'and the first process sees the block too');
  t.equal(await status(a!, idp.token(key)), 200, 'a valid token from the blocked address still passes');
  t.equal(await status(b!, idp.token(key, { sub: 'bob' })), 200, 'on both');
  t.equal(await redis.command('EXISTS portcullis:brake:127.0.0.1'), ':1', 'one counter in Redis, under the key prefix, keyed by the address');
});

void t.test('Redis down: the brake counts in memory, requests are answered as usual', async (t) => {
  const config = writeTempConfig(yaml().replace(`url: ${redis.url}`, 'url: redis://127.0.0.1:1'));
  const g = await startProcess(['serve', '--config', config]);
  gateways.push(g);
  await g.waitForLog((l) => l['msg'] === 'listening' && l['listener'] === 'http', START_MS);
  await g.waitForLog((l) => l['msg'] === 'signing keys loaded', START_MS);
  const url = `http://127.0.0.1:${g.port('http')}`;
  const forger = makeKey('RS256', 'k1');
  const seen: number[] = [];
  for (let i = 0; i <= MAX_FAILURES; i++) seen.push(await status(url, idp.token(forger, { sub: `g${i}` })));
  t.same(seen, [401, 401, 401, 429], 'the in-memory insurance limiter counts');
  t.equal(await status(url, idp.token(key)), 200, 'valid tokens pass');
});

