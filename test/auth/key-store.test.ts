/**
 * KeyStore against a real IdP on 127.0.0.1: first load in the background
 * with retries, readiness, cooldown-limited and shared refetches, rotation,
 * stale-if-error, Cache-Control bounds, size and time limits, discovery
 * checks, and carrying keys over a reload.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { GatewayMetrics } from '../../src/observe/metrics.js';
import { KeyStore } from '../../src/auth/key-store.js';
import { cacheLifetimeSec, DiscoveryJwksFetcher, FileJwksFetcher, UriJwksFetcher, type JwksFetcher } from '../../src/auth/jwks-fetch.js';
import { eventually } from '../helpers/gateway.js';
import { makeKey, TestIdp } from '../helpers/idp.js';

const logs: Record<string, unknown>[] = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => { logs.push(JSON.parse(line) as Record<string, unknown>); } });

function newStore(fetcher: JwksFetcher, opts: { cooldownSec?: number; metrics?: GatewayMetrics } = {}): KeyStore {
  const store = new KeyStore({
    provider: 'p', sourceKey: 'k', fetcher, cooldownSec: opts.cooldownSec ?? 30, logger,
    metrics: opts.metrics ?? new GatewayMetrics({ defaultMetrics: false }), retryInitialMs: 50, retryMaxMs: 200,
  });
  t.teardown(() => store.close());
  return store;
}

async function refreshes(metrics: GatewayMetrics, result: string): Promise<number> {
  return (await metrics.jwksRefreshesTotal.get()).values.find((v) => v.labels['result'] === result)?.value ?? 0;
}

void t.test('not ready until the first load; startup does not wait; retries until the IdP answers', async (t) => {
  const idp = await TestIdp.start([makeKey('ES256', 'a')]);
  t.teardown(() => idp.close());
  idp.mode = 'error';
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const store = newStore(new UriJwksFetcher(idp.jwksUri), { metrics });
  store.start();
  t.equal(store.current(), null);
  t.match(store.notReadyReason(), /^signing keys not loaded yet/);
  t.ok(await eventually(() => idp.hits.jwks >= 3, 3_000), 'retried with backoff');
  t.match(store.notReadyReason(), /HTTP 503/, 'the reason says why');
  // The IdP counts a hit when the request arrives; the store counts the error once the answer is
  // read: poll, bounded, rather than assume the two happen in one turn.
  let errors = 0;
  for (let i = 0; i < 300 && errors < 3; i++) {
    errors = await refreshes(metrics, 'error');
    if (errors < 3) await new Promise((r) => setTimeout(r, 10));
  }
  t.ok(errors >= 3, `errors counted (${errors})`);
  idp.mode = 'up';
  t.ok(await eventually(() => store.current() !== null, 3_000), 'loaded once the IdP is back');
  t.equal(store.notReadyReason(), null);
  t.same(store.current()!.kids, ['a']);
  t.equal(await refreshes(metrics, 'success'), 1);
});

void t.test('unknown kids: one refetch per cooldown, concurrent misses share it', async (t) => {
  const idp = await TestIdp.start([makeKey('ES256', 'a')]);
  t.teardown(() => idp.close());
  const store = newStore(new UriJwksFetcher(idp.jwksUri), { cooldownSec: 1 });
  store.start();
  t.ok(await eventually(() => store.current() !== null));
  t.equal(idp.hits.jwks, 1);
  const waits = Array.from({ length: 50 }, () => store.refreshForUnknownKid());
  t.ok(waits[0] instanceof Promise, 'the first miss starts a fetch');
  t.ok(waits.every((w) => w === waits[0]), 'every concurrent miss shares that same fetch');
  await waits[0];
  t.equal(idp.hits.jwks, 2, 'one fetch for fifty misses');
  t.equal(store.refreshForUnknownKid(), null, 'within the cooldown: no fetch');
  t.equal(idp.hits.jwks, 2);
  await new Promise((r) => setTimeout(r, 1_050));
  const later = store.refreshForUnknownKid();
  t.ok(later instanceof Promise, 'after the cooldown a miss may fetch again');
  await later;
  t.equal(idp.hits.jwks, 3);
});

void t.test('rotation: a new key is picked up, the KeySet object changes only when the JWKS does', async (t) => {
  const idp = await TestIdp.start([makeKey('ES256', 'old')]);
  t.teardown(() => idp.close());
  const store = newStore(new UriJwksFetcher(idp.jwksUri), { cooldownSec: 0 });
  store.start();
  t.ok(await eventually(() => store.current() !== null));
  const first = store.current();
  await store.refreshForUnknownKid();
  t.equal(store.current(), first, 'same JWKS: same KeySet (verified-token cache entries stay valid)');
  idp.published = [makeKey('ES256', 'new')];
  await store.refreshForUnknownKid();
  t.not(store.current(), first, 'changed JWKS: a new KeySet');
  t.same(store.current()!.kids, ['new'], 'the removed key is gone');
  t.ok(logs.some((l) => l['msg'] === 'signing keys changed'));
});

void t.test('IdP outage: cached keys keep working, the failure is logged and counted', async (t) => {
  const idp = await TestIdp.start([makeKey('ES256', 'a')]);
  t.teardown(() => idp.close());
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const store = newStore(new UriJwksFetcher(idp.jwksUri), { cooldownSec: 0, metrics });
  store.start();
  t.ok(await eventually(() => store.current() !== null));
  const keys = store.current();
  for (const mode of ['reset', 'error'] as const) {
    idp.mode = mode;
    await store.refreshForUnknownKid();
    t.equal(store.current(), keys, `${mode}: keys kept`);
    t.equal(store.notReadyReason(), null, `${mode}: still ready`);
  }
  idp.mode = 'up';
  idp.rawJwks = '{"keys": []}';
  await store.refreshForUnknownKid();
  t.equal(store.current(), keys, 'an empty JWKS never replaces working keys');
  idp.rawJwks = 'not json';
  await store.refreshForUnknownKid();
  t.equal(store.current(), keys, 'nor does invalid JSON');
  t.equal(await refreshes(metrics, 'error'), 4);
  t.ok(logs.some((l) => l['msg'] === 'signing key refresh failed; the cached keys stay in use' && l['servingCachedKeys'] === true));
});

void t.test('fetch limits: a hanging IdP times out, an oversized JWKS is refused', async (t) => {
  const idp = await TestIdp.start([makeKey('ES256', 'a')]);
  t.teardown(() => idp.close());
  idp.mode = 'hang';
  const started = Date.now();
  await t.rejects(new UriJwksFetcher(idp.jwksUri, { timeoutMs: 300, maxBytes: 1024 }).fetch(new AbortController().signal));
  t.ok(Date.now() - started < 2_000, 'gave up at the deadline');
  idp.mode = 'up';
  idp.rawJwks = JSON.stringify({ keys: [], pad: 'x'.repeat(4096) });
  await t.rejects(new UriJwksFetcher(idp.jwksUri, { timeoutMs: 1_000, maxBytes: 1024 }).fetch(new AbortController().signal), /larger than 1024 bytes/);
  idp.rawJwks = null;
  const ok = await new UriJwksFetcher(idp.jwksUri, { timeoutMs: 1_000, maxBytes: 1024 }).fetch(new AbortController().signal);
  t.ok(ok.doc, 'twin: a small JWKS is fine');
});

void t.test('Cache-Control max-age is honoured within [60 s, 24 h]; default 10 min', async (t) => {
  t.equal(cacheLifetimeSec(undefined), 600);
  t.equal(cacheLifetimeSec('public, max-age=3600'), 3600);
  t.equal(cacheLifetimeSec('max-age=5'), 60);
  t.equal(cacheLifetimeSec('max-age=999999999'), 86400);
  t.equal(cacheLifetimeSec('no-store'), 60);
  t.equal(cacheLifetimeSec('private'), 600);
  t.equal(cacheLifetimeSec('s-maxage=10'), 600, 's-maxage is for shared caches, not us');
  const idp = await TestIdp.start([makeKey('ES256', 'a')]);
  t.teardown(() => idp.close());
  idp.cacheControl = 'max-age=120';
  t.equal((await new UriJwksFetcher(idp.jwksUri).fetch(new AbortController().signal)).maxAgeSec, 120);
});

void t.test('discovery: jwks_uri from the issuer document, whose issuer must match exactly', async (t) => {
  const idp = await TestIdp.start([makeKey('ES256', 'a')]);
  t.teardown(() => idp.close());
  const got = await new DiscoveryJwksFetcher(idp.issuer + '/').fetch(new AbortController().signal).catch((e: Error) => e);
  t.ok(got instanceof Error, 'a configured issuer with a trailing slash does not equal the document\'s');
  const fetcher = new DiscoveryJwksFetcher(idp.issuer);
  t.teardown(() => fetcher.close());
  t.ok((await fetcher.fetch(new AbortController().signal)).doc);
  t.same(idp.hits, { discovery: 2, jwks: 1 });
  await fetcher.fetch(new AbortController().signal);
  t.same(idp.hits, { discovery: 2, jwks: 2 }, 'jwks_uri remembered between refreshes');
  idp.discoveryIssuer = 'https://evil.example.com';
  idp.mode = 'error';
  await t.rejects(fetcher.fetch(new AbortController().signal));
  idp.mode = 'up';
  await t.rejects(fetcher.fetch(new AbortController().signal), /"issuer" does not equal/, 'after a failure it rediscovers, and checks the issuer');
});

void t.test('jwksFile: read asynchronously; a rotated file is picked up', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [makeKey('ES256', 'one').jwk] }));
  const store = newStore(new FileJwksFetcher(file), { cooldownSec: 0 });
  store.start();
  t.ok(await eventually(() => store.current() !== null));
  t.same(store.current()!.kids, ['one']);
  writeFileSync(file, JSON.stringify({ keys: [makeKey('ES256', 'two').jwk] }));
  await store.refreshForUnknownKid();
  t.same(store.current()!.kids, ['two']);
});

void t.test('reload: a store started from the previous one serves its keys at once, without a fetch', async (t) => {
  const idp = await TestIdp.start([makeKey('ES256', 'a')]);
  t.teardown(() => idp.close());
  const old = newStore(new UriJwksFetcher(idp.jwksUri));
  old.start();
  t.ok(await eventually(() => old.current() !== null));
  const next = newStore(new UriJwksFetcher(idp.jwksUri));
  next.start(old);
  await old.close();
  t.equal(next.current(), old.current(), 'same keys, immediately');
  t.equal(next.notReadyReason(), null, 'ready immediately');
  await new Promise((r) => setTimeout(r, 100));
  t.equal(idp.hits.jwks, 1, 'no refetch: the refresh schedule carried over');
});
