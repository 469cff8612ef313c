/**
 * DPoP jti replay (RFC 9449 §11.1) across instances and through Redis outages, and the server
 * nonce flow (§9): two gateways sharing one real redis-server, a third on its own memory.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGateway, eventually, type TestGateway } from '../helpers/gateway.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { makeKey, TestIdp, type TestKey } from '../helpers/idp.js';
import { jkt, proof } from '../helpers/dpop.js';

let up: RecordingUpstream;
let idp: TestIdp;
let redis: RedisServer;
let idpKey: TestKey;
let client: TestKey;
const gateways: TestGateway[] = [];

t.before(async () => {
  idpKey = makeKey('RS256', 'idp1');
  client = makeKey('ES256');
  [idp, up, redis] = await Promise.all([TestIdp.start([idpKey]), startUpstream(), startRedis()]);
});
t.teardown(async () => {
  for (const g of gateways) await g.close();
  await Promise.all([up.close(), idp.close(), redis.stop()]);
});

async function gateway(extra: { redis?: boolean; failMode?: 'open' | 'closed'; dpop?: Record<string, unknown> } = {}): Promise<TestGateway> {
  const gw = await startGateway({
    ...(extra.redis === true ? { redis: { url: redis.url, commandTimeoutMs: 200 } } : {}),
    ...(extra.failMode === undefined ? {} : { rateLimits: { failMode: extra.failMode, policies: {} } }),
    auth: {
      providers: [{ name: 'corp', issuer: idp.issuer, jwksUri: idp.jwksUri, algorithms: ['RS256'], dpop: 'required' }],
      ...(extra.dpop === undefined ? {} : { dpop: extra.dpop }),
    },
    routes: [{ name: 'api', match: { path: '/api' }, upstream: up.url }],
  });
  gateways.push(gw);
  if (!(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 10_000))) throw new Error('gateway not ready');
  return gw;
}

async function send(gw: TestGateway, token: string, dpop: string) {
  const res = await request(`${gw.url}/api/x`, { headers: { authorization: `DPoP ${token}`, dpop } });
  await res.body.text();
  return { status: res.statusCode, headers: res.headers };
}

void t.test('a proof used on one instance is refused on another sharing Redis', async (t) => {
  const [a, b] = [await gateway({ redis: true }), await gateway({ redis: true })];
  const token = idp.token(idpKey, { cnf: { jkt: await jkt(client) } });
  // htu is the same for both only if they listen on the same host:port — they do not, so each
  // proof names the instance it is replayed at; what makes it a replay is the jti and the key.
  const jti = randomUUID();
  t.equal((await send(a, token, proof(client, { htu: `${a.url}/api/x`, token, jti }))).status, 200, 'first use at A');
  const atB = await send(b, token, proof(client, { htu: `${b.url}/api/x`, token, jti }));
  t.equal(atB.status, 401, 'same jti at B: refused');
  t.match(String(atB.headers['www-authenticate']), /error="invalid_dpop_proof", error_description="DPoP proof already used"/);
  const keys = await redis.command('KEYS portcullis:dpop:jti:*');
  t.equal(keys, '*1', 'one jti held in Redis, under the key prefix (RESP: an array of one)');
  t.equal((await send(b, token, proof(client, { htu: `${b.url}/api/x`, token }))).status, 200, 'a fresh jti at B passes');
  // Without Redis, an instance knows only its own proofs: the same jti passes a third gateway.
  const c = await gateway();
  t.equal((await send(c, token, proof(client, { htu: `${c.url}/api/x`, token, jti }))).status, 200, 'memory-only instance does not see A\'s jti');
  t.equal((await send(c, token, proof(client, { htu: `${c.url}/api/x`, token, jti }))).status, 401, 'but sees its own');
});

void t.test('Redis down: failMode open remembers locally, closed answers 503; both recover', async (t) => {
  const open = await gateway({ redis: true, failMode: 'open' });
  const closed = await gateway({ redis: true, failMode: 'closed' });
  const token = idp.token(idpKey, { cnf: { jkt: await jkt(client) } });
  await redis.stop();
  try {
    const jti = randomUUID();
    const p = proof(client, { htu: `${open.url}/api/x`, token, jti });
    t.equal((await send(open, token, p)).status, 200, 'open: accepted');
    t.equal((await send(open, token, p)).status, 401, 'open: a replay on this instance is still refused');
    t.ok(await eventually(() => open.logs.some((l) => l['msg'] === 'DPoP replay store: Redis unreachable')), 'the outage is logged');
    const r = await send(closed, token, proof(client, { htu: `${closed.url}/api/x`, token }));
    t.equal(r.status, 503, 'closed: 503');
    t.equal(r.headers['retry-after'], '5');
  } finally {
    await redis.start();
  }
  const back = await (async () => {
    for (let i = 0; i < 50; i++) {
      const r = await send(closed, token, proof(client, { htu: `${closed.url}/api/x`, token }));
      if (r.status === 200) return true;
      await new Promise((res) => setTimeout(res, 100));
    }
    return false;
  })();
  t.ok(back, 'closed: passes again once Redis is back');
});

void t.test('server nonce: use_dpop_nonce with DPoP-Nonce, then the nonce is accepted; a forged one is not', async (t) => {
  const secret = 'a-dpop-nonce-secret-of-at-least-32-chars';
  const gw = await gateway({ dpop: { nonce: { enabled: true, secret, ttlSec: 60 } } });
  const token = idp.token(idpKey, { cnf: { jkt: await jkt(client) } });
  const htu = `${gw.url}/api/x`;
  const first = await send(gw, token, proof(client, { htu, token }));
  t.equal(first.status, 401);
  t.match(String(first.headers['www-authenticate']), /DPoP realm="portcullis", error="use_dpop_nonce"/);
  const nonce = first.headers['dpop-nonce'];
  t.type(nonce, 'string');
  t.match(String(nonce), /^[A-Za-z0-9_-]{20,}$/, 'nonce is NQCHAR-safe');
  t.equal((await send(gw, token, proof(client, { htu, token, nonce: String(nonce) }))).status, 200, 'with the nonce: allowed');
  const forged = String(nonce).slice(0, -2) + (String(nonce).endsWith('AA') ? 'BB' : 'AA');
  t.equal((await send(gw, token, proof(client, { htu, token, nonce: forged }))).status, 401, 'a tampered nonce: refused');
  // A second instance with the same secret accepts the first one's nonce (stateless).
  const twin = await gateway({ dpop: { nonce: { enabled: true, secret, ttlSec: 60 } } });
  t.equal((await send(twin, token, proof(client, { htu: `${twin.url}/api/x`, token, nonce: String(nonce) }))).status, 200, 'same secret: accepted elsewhere');
});
