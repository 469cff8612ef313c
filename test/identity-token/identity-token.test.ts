/**
 * The signed identity token (issue 20 item 3): a real upstream verifies it with jose's
 * createRemoteJWKSet against the JWKS the admin listener serves; the claims are the configured
 * ones; a client's forged copy never arrives; rotation keeps old tokens verifiable until their
 * key is removed; ES256 and EdDSA; bad key config names the key. Keys are made at test time.
 */
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import pino from 'pino';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { listenerPort, tempDir } from '../helpers/certs.js';
import { makeKey, TestIdp, type TestKey } from '../helpers/idp.js';
import { loadConfigFile } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/validate.js';
import { compileGateway } from '../../src/compile/gateway.js';
import { GatewayMetrics } from '../../src/observe/metrics.js';
import { Runtime } from '../../src/server/runtime.js';
import { SHAPES } from '../../src/shapes.js';

const ISSUER = 'https://gateway.test';
const pem = (kind: 'ec' | 'ed25519') => (kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519'))
  .privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;

let idp: TestIdp;
let key: TestKey;
let dir: string;
let esFile: string;
/** What the upstream's own verification concluded, per request, in order. */
const verdicts: ({ ok: true; payload: JWTPayload; kid: string; token: string } | { ok: false; error: string; raw: string | string[] | undefined })[] = [];
let jwksUrl = '';
let up: RecordingUpstream;

t.before(async () => {
  dir = await tempDir(t);
  esFile = join(dir, 'es256.pem');
  await writeFile(esFile, pem('ec'));
  key = makeKey('ES256');
  idp = await TestIdp.start([key]);
  // The backend of issue 20: trusts one signature, fetched from the gateway's JWKS like any RP.
  up = await startUpstream((req, res) => {
    const raw = req.headers['x-portcullis-identity'];
    const jwks = createRemoteJWKSet(new URL(jwksUrl));
    const done = (status: number) => res.writeHead(status, { 'content-length': '0' }).end();
    if (typeof raw !== 'string') {
      verdicts.push({ ok: false, error: 'no token', raw });
      return done(401);
    }
    jwtVerify(raw, jwks, { issuer: ISSUER, audience: 'orders', algorithms: ['ES256', 'EdDSA'] }).then(
      (r) => { verdicts.push({ ok: true, payload: r.payload, kid: r.protectedHeader.kid ?? '', token: raw }); done(200); },
      (err: Error) => { verdicts.push({ ok: false, error: err.message, raw }); done(401); },
    );
  });
});
t.teardown(async () => {
  await up.close();
  await idp.close();
});

function doc(identityTokens: Record<string, unknown>): Record<string, unknown> {
  return {
    listeners: { http: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, auth: { host: '127.0.0.1', port: 0 } },
    auth: { providers: [{ name: 'idp', issuer: idp.issuer, jwksUri: idp.jwksUri, algorithms: ['ES256'] }] },
    identityTokens,
    routes: [
      { name: 'orders', match: { path: '/orders' }, upstream: up.url, identityToken: { claims: ['email', 'realm_access.roles'], audience: 'orders' } },
      { name: 'public', match: { path: '/public' }, auth: 'none', upstream: up.url, identityToken: {} },
    ],
  };
}

const get = (gw: TestGateway, path: string, headers: Record<string, string> = {}) => request(`${gw.url}${path}`, { headers }).then(async (r) => {
  await r.body.dump();
  return r.statusCode;
});

void t.test('a backend verifies the token from the served JWKS; claims as configured; forged copies stripped', async (t) => {
  const gw = await startGateway(doc({ issuer: ISSUER, keys: [{ kid: 'es-1', alg: 'ES256', file: esFile }], current: 'es-1' }));
  t.teardown(() => gw.close());
  jwksUrl = `${gw.adminUrl}/.well-known/jwks.json`;

  const jwks = await request(jwksUrl);
  t.equal(jwks.statusCode, 200);
  t.equal(jwks.headers['cache-control'], 'public, max-age=300');
  t.equal(jwks.headers['content-type'], 'application/jwk-set+json');
  const set = (await jwks.body.json()) as { keys: Record<string, unknown>[] };
  t.equal(set.keys.length, 1);
  t.same(Object.keys(set.keys[0]!).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'], 'public members only (no d)');

  const token = idp.token(key, { email: 'alice@example.test', realm_access: { roles: ['buyer'] }, secret_claim: 'x' });
  const n = verdicts.length;
  const status = await get(gw, '/orders/1', { authorization: `Bearer ${token}`, 'x-portcullis-identity': 'forged', 'X_Portcullis_Identity': 'forged-alias' });
  t.equal(status, 200, 'the upstream verified the token');
  const v = verdicts[n]!;
  if (!v.ok) return t.fail(`upstream refused: ${v.error}`);
  t.equal(v.kid, 'es-1');
  const p = v.payload;
  t.equal(p.iss, ISSUER);
  t.equal(p.aud, 'orders');
  t.equal(p.sub, 'alice');
  t.equal(p['idp'], idp.issuer, "the caller token's issuer");
  t.equal(p['email'], 'alice@example.test');
  t.same(p['realm_access'], { roles: ['buyer'] });
  t.equal(p['secret_claim'], undefined, 'unlisted claims stay out');
  t.equal(p.exp! - p.iat!, 60, 'ttlSec default');
  t.type(p.jti, 'string');
  const rec = up.received[up.received.length - 1]!;
  t.notOk(rec.rawHeaders.some((h) => h === 'forged' || h === 'forged-alias'), 'neither forged copy reached the upstream');

  // Cached: the same caller on the same route gets the same token until half its TTL.
  await get(gw, '/orders/2', { authorization: `Bearer ${token}` });
  const again = verdicts[n + 1]!;
  t.ok(again.ok && again.token === v.token, 'reused, not re-signed');
  await get(gw, '/orders/3', { authorization: `Bearer ${idp.token(key, { sub: 'bob' })}` });
  const bob = verdicts[n + 2]!;
  t.ok(bob.ok && bob.payload.sub === 'bob' && bob.token !== v.token, 'another caller, another token');

  // auth: none: no identity, so no token — and the forged header is still removed.
  t.equal(await get(gw, '/public', { 'x-portcullis-identity': 'forged' }), 401);
  const anon = verdicts[n + 3]!;
  t.ok(!anon.ok && anon.raw === undefined, 'the anonymous request carries no identity token at all');

  // Forward-auth: the token is one of the allow's identity headers.
  const authPort = listenerPort(gw.runtime, 'auth');
  const allow = await request(`http://127.0.0.1:${authPort}/nginx`, { headers: { authorization: `Bearer ${token}`, 'x-original-uri': '/orders/9', 'x-original-method': 'GET', host: 'api.test' } });
  await allow.body.dump();
  t.equal(allow.statusCode, 200);
  const fromAllow = allow.headers['x-portcullis-identity'];
  t.type(fromAllow, 'string');
  const verified = await jwtVerify(String(fromAllow), createRemoteJWKSet(new URL(jwksUrl)), { issuer: ISSUER, audience: 'orders' });
  t.equal(verified.payload.sub, 'alice');
});

void t.test('rotation over SIGHUP reload: a new current key, old tokens verify until the old key is removed; ES256 and EdDSA', async (t) => {
  const file = join(dir, 'rotate.json');
  const edPem = pem('ed25519');
  const write = (keys: unknown[], current: string) => writeFile(file, JSON.stringify(doc({ issuer: ISSUER, keys, current })));
  const es = { kid: 'es-1', alg: 'ES256', file: esFile };
  const ed = { kid: 'ed-2', alg: 'EdDSA', pem: edPem };
  await write([es], 'es-1');
  const deps = { logger: pino({ level: 'silent' }), metrics: new GatewayMetrics({ defaultMetrics: false }) };
  const runtime = new Runtime(file, await compileGateway(await loadConfigFile(file), deps), deps, SHAPES);
  await runtime.start();
  t.teardown(() => runtime.shutdown('test'));
  const base = `http://127.0.0.1:${listenerPort(runtime, 'http')}`;
  jwksUrl = `http://127.0.0.1:${listenerPort(runtime, 'admin')}/.well-known/jwks.json`;
  const token = idp.token(key);
  const issued = async (): Promise<string> => {
    const n = verdicts.length;
    const r = await request(`${base}/orders`, { headers: { authorization: `Bearer ${token}` } });
    await r.body.dump();
    const v = verdicts[n]!;
    return v.ok ? v.token : `refused: ${v.error}`;
  };
  /** A relying party that has never seen the JWKS before (no cached keys). */
  const verifies = (jwt: string) => jwtVerify(jwt, createRemoteJWKSet(new URL(jwksUrl)), { issuer: ISSUER, audience: 'orders' }).then(() => true, () => false);

  const old = await issued();
  t.equal(decodeProtectedHeader(old).alg, 'ES256');

  await write([es, ed], 'ed-2');
  t.ok(await runtime.reload(), 'reload with a new current key');
  const fresh = await issued();
  t.same([decodeProtectedHeader(fresh).alg, decodeProtectedHeader(fresh).kid], ['EdDSA', 'ed-2'], 'new tokens come from the new key');
  t.ok(await verifies(old), 'the old token still verifies: its key is still published');
  t.ok(await verifies(fresh));

  await write([ed], 'ed-2');
  t.ok(await runtime.reload(), 'reload without the old key');
  t.notOk(await verifies(old), 'old key removed: its tokens no longer verify');
  t.ok(await verifies(fresh));

  await write([ed], 'es-1');
  t.notOk(await runtime.reload(), 'a bad config is rejected on reload; the previous one keeps serving');
  t.ok(await verifies(await issued()));
});

void t.test('bad key config: every error names its key', async (t) => {
  const ed = pem('ed25519');
  const cfg = (identityTokens: Record<string, unknown>, route: Record<string, unknown> = { claims: ['email'] }) => ({
    listeners: { http: { host: '127.0.0.1', port: 0 } },
    identityTokens,
    routes: [{ name: 'r', match: { path: '/' }, auth: 'none', upstream: 'http://127.0.0.1:1', identityToken: route }],
  });
  const problems = (doc: unknown): string => {
    try {
      validateConfig(doc);
      return '(valid)';
    } catch (err) {
      return String((err as { problems?: string[] }).problems?.join('\n') ?? err);
    }
  };
  t.match(problems(cfg({ issuer: ISSUER, keys: [{ kid: 'a', alg: 'ES256', file: join(dir, 'missing.pem') }], current: 'a' })), /identityTokens\.keys\[0\]\.file: cannot read/);
  t.match(problems(cfg({ issuer: ISSUER, keys: [{ kid: 'a', alg: 'ES256', pem: ed }], current: 'a' })), /identityTokens\.keys\[0\]\.pem: alg ES256 needs an EC P-256 key/);
  t.match(problems(cfg({ issuer: ISSUER, keys: [{ kid: 'a', alg: 'EdDSA', file: esFile }], current: 'a' })), /identityTokens\.keys\[0\]\.file: alg EdDSA needs an Ed25519 key/);
  t.match(problems(cfg({ issuer: ISSUER, keys: [{ kid: 'a', alg: 'EdDSA', pem: 'not a key' }], current: 'a' })), /identityTokens\.keys\[0\]\.pem: is not a PEM private key/);
  t.match(problems(cfg({ issuer: ISSUER, keys: [{ kid: 'a', alg: 'EdDSA', pem: ed, file: esFile }], current: 'a' })), /identityTokens\.keys\[0\]: must set exactly one of file or pem/);
  t.match(problems(cfg({ issuer: ISSUER, keys: [{ kid: 'a', alg: 'HS256', pem: ed }], current: 'a' })), /identityTokens\.keys\[0\]\.alg/);
  t.match(problems(cfg({ issuer: ISSUER, keys: [{ kid: 'a', alg: 'EdDSA', pem: ed }, { kid: 'a', alg: 'EdDSA', pem: ed }], current: 'a' })), /identityTokens\.keys\[1\]\.kid: duplicate kid/);
  t.match(problems(cfg({ issuer: ISSUER, keys: [{ kid: 'a', alg: 'EdDSA', pem: ed }], current: 'b' })), /identityTokens\.current: "b" is not the kid/);
  t.match(problems(cfg({ issuer: ISSUER, keys: [{ kid: 'a', alg: 'EdDSA', pem: ed }], current: 'a' }, { claims: ['iss'] })), /routes\[0\]\.identityToken\.claims\[0\]: "iss" is set by the gateway/);
  t.match(problems(cfg({ issuer: ISSUER, keys: [{ kid: 'a', alg: 'EdDSA', pem: ed }], current: 'a' }, { claims: ['a.__proto__'] })), /routes\[0\]\.identityToken\.claims\[0\]/);
  t.match(problems(cfg({ issuer: ISSUER, keys: [{ kid: 'a', alg: 'EdDSA', pem: ed }], current: 'a' }, { header: 'Authorization' })), /routes\[0\]\.identityToken\.header/);
  t.match(problems({ listeners: { http: { host: '127.0.0.1', port: 0 } }, routes: [{ name: 'r', match: {}, auth: 'none', upstream: 'http://127.0.0.1:1', identityToken: {} }] }), /routes\[0\]\.identityToken: needs the top-level identityTokens/);
  t.equal(problems(cfg({ issuer: ISSUER, keys: [{ kid: 'a', alg: 'EdDSA', pem: ed }], current: 'a' })), '(valid)');
});
