/**
 * The bounded local lease (issue 17, `rateLimits.policies.<name>.lease`) with two gateway
 * processes (the built binary) sharing one real Redis bucket:
 *
 * - over-admission: each process holds a lease, the bucket refills to full (set in Redis, so the
 *   test does not depend on timing), then a burst: the two admit capacity + 2 × (tokens − 1), the
 *   documented bound, exactly — where the exact mode (the default) admits capacity;
 * - refund: a lease's unspent tokens are back in the bucket after ttlMs (the sweep), and when a
 *   process shuts down (SIGTERM), so the other process can spend them;
 * - fewer Redis calls: a process with a lease asks Redis once per `tokens` requests.
 *
 * Refill is 0.001 tokens/s, so the bucket changes only by what the gateways take and give back.
 */
import t from 'tap';
import { request } from 'undici';
import { killAll, startProcess, type GatewayProcess } from '../helpers/process.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startRedis, writeTempConfig, type RedisServer } from '../helpers/redis.js';
import { sleep } from './store-kit.js';

const CAPACITY = 10;
const LEASE = 4;
const SHORT_LEASE = 5;
const SHORT_TTL_MS = 300;
const PREFIX = 'lease-test:';

let up: RecordingUpstream;
let redis: RedisServer;
const gateways: GatewayProcess[] = [];

let config: string;
let a: Gw;
let b: Gw;

t.before(async () => {
  up = await startUpstream();
  redis = await startRedis();
  config = writeTempConfig(yaml());
  [a, b] = await Promise.all([startOne(config), startOne(config)]);
});
t.teardown(async () => {
  await killAll(gateways);
  await up.close();
  await redis.stop();
});

function yaml(): string {
  const policy = (name: string, lease: string): string =>
    `    ${name}: { key: "header:x-client", capacity: ${CAPACITY}, refillPerSecond: 0.001${lease} }`;
  const route = (name: string): string[] => [
    `  - name: ${name}`, `    match: { path: /${name} }`, '    auth: none', `    upstream: ${up.url}`, `    rateLimit: ${name}`,
  ];
  return [
    'listeners:',
    '  http: { host: 127.0.0.1, port: 0 }',
    'redis:',
    `  url: ${redis.url}`,
    `  keyPrefix: "${PREFIX}"`,
    '  commandTimeoutMs: 2000',
    'rateLimits:',
    '  failMode: closed',
    '  policies:',
    policy('exact', ''),
    policy('leased', `, lease: { tokens: ${LEASE}, ttlMs: 60000 }`),
    policy('short', `, lease: { tokens: ${SHORT_LEASE}, ttlMs: ${SHORT_TTL_MS} }`),
    'routes:',
    ...route('exact'), ...route('leased'), ...route('short'),
    '',
  ].join('\n');
}

interface Gw { url: string; proc: GatewayProcess }

async function startOne(config: string): Promise<Gw> {
  const g = await startProcess(['serve', '--config', config]);
  gateways.push(g);
  // generous: start-up takes seconds on a loaded CI machine
  await g.waitForLog((l) => l['msg'] === 'listening' && l['listener'] === 'http', 60_000);
  await g.waitForLog((l) => l['redis'] === 'up', 10_000);
  return { url: `http://127.0.0.1:${g.port('http')}`, proc: g };
}

async function status(gw: Gw, path: string, client: string): Promise<number> {
  const res = await request(gw.url + path, { headers: { 'x-client': client } });
  await res.body.dump();
  return res.statusCode;
}

const bucketKey = (policy: string, client: string): string => `${PREFIX}rl:{${policy}:v:${client}}`;

/** Whole tokens stored in the shared bucket, or null when there is no bucket (full). */
async function stored(policy: string, client: string): Promise<number | null> {
  const v = await redis.command(`GET ${bucketKey(policy, client)}`);
  if (v === '$-1' || v === '') return null;
  return Math.floor(Number(v.split(' ')[0]));
}

/** What a refill of the shared bucket back to full looks like to the script. */
async function refillToFull(policy: string, client: string): Promise<void> {
  const reply = await redis.command(`SET ${bucketKey(policy, client)} "${CAPACITY} ${Date.now()}" PX 600000`);
  if (reply !== '+OK') throw new Error(`SET: ${reply}`);
}

/** Each process spends one token (taking a lease where there is one), the bucket refills, then a sequential burst alternating between them. */
async function heldThenBurst(policy: string, client: string): Promise<{ first: number[]; burst: number }> {
  const first = [await status(a, '/' + policy, client), await status(b, '/' + policy, client)];
  await refillToFull(policy, client);
  let burst = 0;
  for (let i = 0; i < 4 * CAPACITY; i++) {
    if ((await status(i % 2 === 0 ? a : b, '/' + policy, client)) === 200) burst++;
  }
  return { first, burst };
}

void t.test('over-admission across two processes is capacity + N × (tokens − 1), exactly, and no more', async (t) => {
  const leased = await heldThenBurst('leased', 'c-bound');
  t.same(leased.first, [200, 200], 'one request on each process');
  const bound = CAPACITY + 2 * (LEASE - 1);
  t.ok(leased.burst <= bound, `burst after the refill admitted ${leased.burst} ≤ ${CAPACITY} + 2 × (${LEASE} − 1) = ${bound}`);
  t.equal(leased.burst, bound, 'and the bound is reached: the tokens each process held were spent after the refill');

  const exact = await heldThenBurst('exact', 'c-bound');
  t.same(exact.first, [200, 200]);
  t.equal(exact.burst, CAPACITY, `the exact mode (the default) admits the capacity, ${CAPACITY}, in the same sequence`);
});

void t.test('a lease takes its tokens from the shared bucket in one call', async (t) => {
  t.equal(await status(a, '/leased', 'c-calls'), 200);
  t.equal(await stored('leased', 'c-calls'), CAPACITY - LEASE, `Redis holds ${CAPACITY} − ${LEASE} after the first request`);
  for (let i = 0; i < LEASE - 1; i++) t.equal(await status(a, '/leased', 'c-calls'), 200);
  t.equal(await stored('leased', 'c-calls'), CAPACITY - LEASE, `${LEASE - 1} more requests spent the lease without asking Redis`);
  t.equal(await status(a, '/leased', 'c-calls'), 200);
  t.equal(await stored('leased', 'c-calls'), CAPACITY - 2 * LEASE, 'the next one took the next lease');
});

/** EVALSHA + EVAL calls Redis has served (INFO commandstats). */
async function scriptCalls(): Promise<number> {
  const info = await redis.command('INFO commandstats');
  let n = 0;
  for (const m of info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)) n += Number(m[1]);
  return n;
}

void t.test('concurrent requests of one client share a lease call; a denial is shared too', async (t) => {
  const before = await scriptCalls();
  const statuses = await Promise.all(Array.from({ length: 30 }, () => status(a, '/leased', 'c-concurrent')));
  const calls = (await scriptCalls()) - before;
  t.equal(statuses.filter((s) => s === 200).length, CAPACITY, `30 at once admit the capacity, ${CAPACITY}`);
  t.same([...new Set(statuses.filter((s) => s !== 200))], [429], 'the rest are 429');
  // ceil(10 / 4) = 3 leases, then one denied call; the exact mode would make 30
  t.ok(calls <= Math.ceil(CAPACITY / LEASE) + 2, `${calls} script calls for 30 requests`);
});

void t.test('unspent tokens go back to the bucket when the lease expires, and the other process spends them', async (t) => {
  t.equal(await status(a, '/short', 'c-expiry'), 200);
  t.equal(await stored('short', 'c-expiry'), CAPACITY - SHORT_LEASE, 'a holds the rest of its lease');
  // the sweep runs every ttlMs: refunded within two of them (bounded wait)
  const deadline = Date.now() + 20 * SHORT_TTL_MS;
  let now = await stored('short', 'c-expiry');
  while (now !== CAPACITY - 1 && Date.now() < deadline) {
    await sleep(50);
    now = await stored('short', 'c-expiry');
  }
  t.equal(now, CAPACITY - 1, `after ${SHORT_TTL_MS} ms the ${SHORT_LEASE - 1} unspent tokens are back: only the one spent is gone`);
  let admitted = 0;
  for (let i = 0; i < 2 * CAPACITY; i++) if ((await status(b, '/short', 'c-expiry')) === 200) admitted++;
  t.equal(admitted, CAPACITY - 1, 'b admits everything but the one token a spent (without the refund: 5)');
});

void t.test('a process that shuts down gives its unspent tokens back', async (t) => {
  t.equal(await status(a, '/leased', 'c-shutdown'), 200);
  t.equal(await stored('leased', 'c-shutdown'), CAPACITY - LEASE);
  a.proc.child.kill('SIGTERM');
  t.equal(await a.proc.exited, 0, 'a exits cleanly');
  t.equal(await stored('leased', 'c-shutdown'), CAPACITY - 1, `the ${LEASE - 1} tokens a still held are back in the bucket`);
});
