/**
 * The identity-token JWKS under `server.workers: 2` (issue 20 item 3 in cluster mode), with the
 * built binary and real worker processes: the primary's admin listener serves the keys the
 * workers sign with, a backend verifies tokens issued by either worker against it, a SIGHUP
 * rotation is served once the workers reload, a worker reloaded alone (the others not yet)
 * makes the primary serve the union of both key sets with no-cache, and a config without
 * identityTokens answers 404 as a single process does.
 */
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { startUpstream } from '../helpers/upstream.js';
import { startProcess, type GatewayProcess } from '../helpers/process.js';
import { makeKey, TestIdp } from '../helpers/idp.js';

const ISSUER = 'https://gateway.test';
const pem = (kind: 'ec' | 'ed25519'): string => (kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519'))
  .privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;

interface Key { kid: string; alg: 'ES256' | 'EdDSA'; pem: string }

void t.test('server.workers: the primary serves the workers\' JWKS; rotation on SIGHUP; union mid-reload; 404 without keys', async (t) => {
  const idpKey = makeKey('ES256');
  const idp = await TestIdp.start([idpKey]);
  /** The identity tokens the upstream received, in order. */
  const received: string[] = [];
  const up = await startUpstream((req, res) => {
    const raw = req.headers['x-portcullis-identity'];
    if (typeof raw === 'string') received.push(raw);
    res.writeHead(200, { 'content-length': '0' }).end();
  });
  t.teardown(async () => { await up.close(); await idp.close(); });
  const dir = t.testdir();
  const file = join(dir, 'gateway.json');
  const write = (keys: Key[] | null, current = ''): void => writeFileSync(file, JSON.stringify({
    server: { workers: 2, shutdownGraceMs: 3000 },
    listeners: { http: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 } },
    auth: { providers: [{ name: 'idp', issuer: idp.issuer, jwksUri: idp.jwksUri, algorithms: ['ES256'] }] },
    ...(keys === null ? {} : { identityTokens: { issuer: ISSUER, keys, current } }),
    routes: [{ name: 'orders', match: { path: '/orders' }, upstream: up.url, ...(keys === null ? {} : { identityToken: { audience: 'orders' } }) }],
  }));
  const es: Key = { kid: 'es-1', alg: 'ES256', pem: pem('ec') };
  const ed: Key = { kid: 'ed-2', alg: 'EdDSA', pem: pem('ed25519') };
  write([es], 'es-1');
  const gp: GatewayProcess = await startProcess(['serve', '--config', file]);
  t.teardown(() => gp.kill());
  await gp.waitForLog((l) => l['msg'] === 'all workers ready', 30_000);
  const pids = gp.logs.filter((l) => l['msg'] === 'worker ready').map((l) => l['pid'] as number);
  const base = `http://127.0.0.1:${gp.port('http')}`;
  const jwksUrl = `http://127.0.0.1:${gp.port('admin')}/.well-known/jwks.json`;
  const token = idp.token(idpKey);
  const reloaded = (): number => gp.logs.filter((l) => l['msg'] === 'config reloaded').length;

  const fetchJwks = async (): Promise<{ status: number; cacheControl: unknown; kids: string[]; set: JSONWebKeySet }> => {
    const r = await request(jwksUrl);
    const text = await r.body.text();
    const set = (r.statusCode === 200 ? JSON.parse(text) : { keys: [] }) as JSONWebKeySet;
    return { status: r.statusCode, cacheControl: r.headers['cache-control'], kids: set.keys.map((k) => String(k.kid)).sort(), set };
  };
  /** Tokens from `n` requests on fresh connections (cluster round-robin spreads them over both workers). */
  const issue = async (n: number): Promise<string[]> => {
    const from = received.length;
    for (let i = 0; i < n; i++) {
      const r = await request(`${base}/orders/${i}`, { headers: { authorization: `Bearer ${token}` }, reset: true, headersTimeout: 5_000 });
      await r.body.dump();
      t.equal(r.statusCode, 200);
    }
    return received.slice(from);
  };
  const verifiesWith = (set: JSONWebKeySet, jwt: string): Promise<boolean> =>
    jwtVerify(jwt, createLocalJWKSet(set), { issuer: ISSUER, audience: 'orders' }).then(() => true, () => false);

  // served by the primary (workers do not open the admin listener), and every worker's token verifies
  const first = await fetchJwks();
  t.same([first.status, first.cacheControl, first.kids], [200, 'public, max-age=300', ['es-1']], 'the JWKS of the workers\' keys');
  t.notOk(first.set.keys.some((k) => 'd' in k), 'public members only');
  const before = await issue(8);
  t.equal(before.length, 8, 'every request carried an identity token');
  const workers = new Set(gp.logs.filter((l) => l['msg'] === 'access').map((l) => l['worker']));
  t.same([...workers].sort(), [1, 2], 'issued by worker 1 and worker 2');
  for (const jwt of before) t.ok(await verifiesWith(first.set, jwt), 'a backend verifies it against the primary\'s JWKS');

  // one worker reloaded, the other not yet (what a SIGHUP looks like between the two reloads):
  // the union, so tokens of both verify, and no-cache so a relying party fetches again
  write([es, ed], 'ed-2');
  process.kill(pids[0]!, 'SIGHUP');
  await gp.waitForLog(() => reloaded() >= 1);
  const mid = await fetchJwks();
  t.same([mid.status, mid.cacheControl, mid.kids], [200, 'no-cache', ['ed-2', 'es-1']], 'workers disagree: the union of their keys, no-cache');
  const mixed = await issue(6);
  t.same(new Set(mixed.map((j) => decodeProtectedHeader(j).kid)), new Set(['es-1', 'ed-2']), 'tokens of both keys in flight');
  for (const jwt of mixed) t.ok(await verifiesWith(mid.set, jwt), 'each verifies against the union');

  // SIGHUP to the primary: every worker reloads; the new key is current everywhere
  process.kill(gp.child.pid!, 'SIGHUP');
  await gp.waitForLog(() => reloaded() >= 3);
  const rotated = await fetchJwks();
  t.same([rotated.cacheControl, rotated.kids], ['public, max-age=300', ['ed-2', 'es-1']], 'workers agree again');
  const after = await issue(6);
  t.same(new Set(after.map((j) => decodeProtectedHeader(j).kid)), new Set(['ed-2']), 'every worker signs with the new key');

  // the old key removed: old tokens stop verifying, new ones still do
  write([ed], 'ed-2');
  process.kill(gp.child.pid!, 'SIGHUP');
  await gp.waitForLog(() => reloaded() >= 5);
  const final = await fetchJwks();
  t.same(final.kids, ['ed-2'], 'the removed key is no longer published');
  t.notOk(await verifiesWith(final.set, before[0]!), 'a token of the removed key no longer verifies');
  t.ok(await verifiesWith(final.set, after[0]!));

  // no identityTokens: 404 from the primary, as from a single process
  write(null);
  process.kill(gp.child.pid!, 'SIGHUP');
  await gp.waitForLog(() => reloaded() >= 7);
  t.equal((await fetchJwks()).status, 404, 'no keys configured: 404');

  gp.child.kill('SIGTERM');
  t.equal(await gp.exited, 0, 'the primary exits 0');
});
