/**
 * The auth stage through real sockets: a gateway on 127.0.0.1, a real IdP
 * (OIDC discovery + JWKS) and a recording upstream. Positives for every
 * asymmetric algorithm family, then the attack catalogue — each refused with
 * 401 invalid_token, counted under its reason, and never reaching the upstream.
 */
import t, { type Test } from 'tap';
import { request } from 'undici';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGateway, eventually, type TestGateway } from '../helpers/gateway.js';
import { b64url, makeKey, nowSec, signJws, TestIdp, type TestKey } from '../helpers/idp.js';

const HS_SECRET = 'an-hs256-test-secret-of-at-least-32-bytes';
let up: RecordingUpstream;
let attacker: RecordingUpstream;
let idp: TestIdp;
let gw: TestGateway;
let rs: TestKey, ps: TestKey, es: TestKey, ed: TestKey;

t.before(async () => {
  [rs, ps, es, ed] = [makeKey('RS256', 'rs1'), makeKey('PS256', 'ps1'), makeKey('ES256', 'es1'), makeKey('EdDSA', 'ed1')];
  idp = await TestIdp.start([rs, ps, es, ed]);
  up = await startUpstream();
  attacker = await startUpstream();
  gw = await startGateway({
    server: { limits: { maxHeaderBytes: 262144 } }, // so a 100 KB token reaches the auth stage
    auth: {
      providers: [
        { name: 'corp', issuer: idp.issuer, discovery: true, audiences: ['orders-api'], algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'] },
        { name: 'hs', issuer: 'hs-issuer', secret: HS_SECRET, algorithms: ['HS256'] },
        { name: 'at', issuer: 'at-issuer', secret: HS_SECRET, algorithms: ['HS256'], requireTyp: 'at+jwt' },
      ],
      tokenSources: [{ header: 'authorization' }, { cookie: 'access_token' }],
      bruteForce: { maxFailures: 0 },
    },
    routes: [
      { name: 'api', match: { path: '/api' }, upstream: up.url, identityHeaders: { 'X-User-Id': 'sub' } },
      { name: 'corp-only', match: { path: '/corp' }, upstream: up.url, auth: { providers: ['corp'] } },
    ],
  });
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000), 'keys loaded');
});
t.teardown(async () => {
  await gw.close();
  await Promise.all([up.close(), attacker.close(), idp.close()]);
});

const aud = { aud: 'orders-api' };

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await request(gw.url + path, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function failures(reason: string, provider?: string): Promise<number> {
  const metric = await gw.metrics.authFailuresTotal.get();
  return metric.values.filter((v) => v.labels['reason'] === reason && (provider === undefined || v.labels['provider'] === provider))
    .reduce((n, v) => n + v.value, 0);
}

/** Asserts a 401 invalid_token counted under `reason`, with the upstream untouched. */
async function refused(t: Test, token: string, reason: string, what: string, path = '/api/x'): Promise<void> {
  const before = up.received.length;
  const counted = await failures(reason);
  const res = await get(path, bearer(token));
  t.equal(res.status, 401, `${what}: 401`);
  t.match(res.headers['www-authenticate'], /^Bearer realm="portcullis", error="invalid_token", error_description="[ -~]+"$/, `${what}: RFC 6750 challenge`);
  t.equal(JSON.parse(res.text).error, 'invalid_token');
  t.equal(await failures(reason), counted + 1, `${what}: counted as ${reason}`);
  t.equal(up.received.length, before, `${what}: upstream not hit`);
}


void t.test('RS256, PS256, ES256 and EdDSA tokens pass; the upstream gets the identity header; sub is logged', async (t) => {
  for (const key of [rs, ps, es, ed]) {
    const res = await get('/api/x', bearer(idp.token(key, { ...aud, sub: `user-${key.alg}` })));
    t.equal(res.status, 200, `${key.alg} → 200`);
    t.equal(up.received.at(-1)!.headers['x-user-id'], `user-${key.alg}`, `${key.alg}: X-User-Id from the verified sub`);
  }
  t.ok(await eventually(() => gw.access().some((l) => l['sub'] === 'user-EdDSA' && l['status'] === 200)), 'sub in the access log');
  t.equal(idp.hits.discovery, 1, 'discovery fetched once');
});

void t.test('an HS256 provider with a configured secret works; its twin signed with another secret fails', async (t) => {
  const claims = { iss: 'hs-issuer', sub: 'svc', exp: nowSec() + 60 };
  t.equal((await get('/api/x', bearer(signJws({ alg: 'HS256', typ: 'JWT' }, claims, HS_SECRET)))).status, 200);
  await refused(t, signJws({ alg: 'HS256', typ: 'JWT' }, claims, HS_SECRET + 'x'), 'bad_signature', 'wrong secret');
});

void t.test('requireTyp (RFC 9068 §4): at+jwt in any casing, with or without application/, passes; ID tokens and other types are refused', async (t) => {
  const at = (header: Record<string, unknown>) => signJws({ alg: 'HS256', ...header }, { iss: 'at-issuer', sub: 'svc', exp: nowSec() + 60 }, HS_SECRET);
  for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/At+JWT']) {
    t.equal((await get('/api/x', bearer(at({ typ })))).status, 200, `typ ${typ} → 200`);
  }
  await refused(t, at({ typ: 'JWT' }), 'wrong_typ', 'an ID token (typ JWT)');
  await refused(t, at({}), 'wrong_typ', 'no typ');
  await refused(t, at({ typ: 'application/jwt' }), 'wrong_typ', 'typ application/jwt');
  await refused(t, at({ typ: 'at+jwt2' }), 'wrong_typ', 'a longer type');
  await refused(t, at({ typ: 'xat+jwt' }), 'wrong_typ', 'a type that ends the same');
  const res = await get('/api/x', bearer(at({ typ: 'JWT' })));
  t.match(res.headers['www-authenticate'], /error_description="token type not accepted"/);
  t.equal((await get('/api/x', bearer(signJws({ alg: 'HS256', typ: 'JWT' }, { iss: 'hs-issuer', sub: 'x', exp: nowSec() + 60 }, HS_SECRET)))).status, 200, 'a provider without requireTyp accepts typ JWT');
});

void t.test('no token: 401 with a bare challenge (RFC 6750 §3.1); another scheme is no token', async (t) => {
  for (const headers of [{}, { authorization: 'Basic YWxpY2U6cHc=' }] as Record<string, string>[]) {
    const res = await get('/api/x', headers);
    t.equal(res.status, 401);
    t.equal(res.headers['www-authenticate'], 'Bearer realm="portcullis"');
    t.equal(JSON.parse(res.text).error, 'unauthorized');
  }
  const lower = await get('/api/x', { authorization: `bearer ${idp.token(rs, aud)}` });
  t.equal(lower.status, 200, 'the Bearer scheme is case-insensitive');
});

void t.test('alg none in any casing is refused', async (t) => {
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    const unsigned = `${b64url({ alg, typ: 'JWT' })}.${b64url({ iss: idp.issuer, sub: 'mallory', exp: nowSec() + 60, ...aud })}.`;
    await refused(t, unsigned, 'malformed', `alg ${alg} without signature`);
    await refused(t, unsigned + 'AAAA', 'alg_not_allowed', `alg ${alg} with a dummy signature`);
  }
});

void t.test('HS256 signed with the RSA public key (PEM and JWK forms) is refused: no key confusion', async (t) => {
  const pem = rs.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  for (const [form, secret] of [['PEM', pem], ['JWK', JSON.stringify(rs.jwk)], ['modulus', Buffer.from(String(rs.jwk['n']), 'base64url')]] as const) {
    const forged = signJws({ alg: 'HS256', typ: 'JWT', kid: rs.kid }, { iss: idp.issuer, sub: 'mallory', exp: nowSec() + 60, ...aud }, secret);
    await refused(t, forged, 'alg_not_allowed', `HS256 keyed with the public key (${form})`);
  }
  // Twin: the HS provider's own secret must not verify a token naming the RSA issuer either.
  await refused(t, signJws({ alg: 'HS256', typ: 'JWT' }, { iss: idp.issuer, sub: 'x', exp: nowSec() + 60, ...aud }, HS_SECRET), 'alg_not_allowed', 'HS256 with the corp issuer');
});

void t.test('a key is only used with its own algorithm family and curve', async (t) => {
  const es384 = makeKey('ES384', es.kid); // same kid as the P-256 key
  await refused(t, signJws({ alg: 'ES384', kid: es.kid }, { iss: idp.issuer, exp: nowSec() + 60, ...aud }, es384.privateKey), 'alg_not_allowed', 'ES384 not configured');
  await refused(t, idp.token(rs, aud, { alg: 'ES256' }), 'alg_not_allowed', 'RSA kid with alg ES256');
  await refused(t, idp.token(rs, aud, { kid: es.kid }), 'alg_not_allowed', 'RS256 token naming the EC kid');
  await refused(t, idp.token(makeKey('RS256', rs.kid), aud), 'bad_signature', 'known kid, another key');
});

void t.test('unknown kid floods: at most one JWKS fetch per cooldown, shared by concurrent misses', async (t) => {
  const before = idp.hits.jwks;
  const kids = ['../../../../etc/passwd', "' OR 1=1 --", '"; DROP TABLE keys; --', '__proto__', 'constructor', '%2e%2e%2f', 'a'.repeat(256)];
  for (let i = 0; i < 40; i++) kids.push(`random-${i}-${Math.random()}`);
  const results = await Promise.all(kids.map((kid) => get('/api/x', bearer(idp.token(makeKeyFor(kid), aud)))));
  t.same(new Set(results.map((r) => r.status)), new Set([401]), 'every forged kid → 401');
  t.ok(results.every((r) => /error_description="unknown signing key"/.test(String(r.headers['www-authenticate']))));
  t.equal(idp.hits.jwks - before, 1, 'one refetch for the whole flood');
  const again = await Promise.all(kids.slice(0, 10).map((kid) => get('/api/x', bearer(idp.token(makeKeyFor(kid), aud)))));
  t.same(new Set(again.map((r) => r.status)), new Set([401]));
  t.equal(idp.hits.jwks - before, 1, 'no further fetch within the cooldown');
  t.equal((await get('/api/x', bearer(idp.token(rs, aud)))).status, 200, 'twin: the real kid still works');
});

/** An RS256 key under an arbitrary kid (signing cost is all the flood needs). */
const floodKey = makeKey('ES256');
function makeKeyFor(kid: string): TestKey {
  return { ...floodKey, kid };
}

void t.test('jku, x5u, jwk and x5c headers are refused and never followed', async (t) => {
  const evil = makeKey('RS256', rs.kid);
  const headers: Record<string, unknown>[] = [
    { jku: `${attacker.url}/jwks.json` },
    { x5u: `${attacker.url}/cert.pem` },
    { jwk: evil.jwk },
    { x5c: ['MIIBkTCB+wIJAL'] },
  ];
  for (const h of headers) {
    const token = signJws({ alg: 'RS256', kid: rs.kid, ...h }, { iss: idp.issuer, sub: 'mallory', exp: nowSec() + 60, ...aud }, evil.privateKey);
    await refused(t, token, 'header_not_allowed', `header ${Object.keys(h)[0]}`);
  }
  t.equal(attacker.received.length, 0, 'the attacker server saw no request');
});

void t.test('unknown crit and b64 are refused (RFC 7515 §4.1.11, RFC 7797)', async (t) => {
  await refused(t, idp.token(rs, aud, { crit: ['exp-ext'], 'exp-ext': 1 }), 'header_not_allowed', 'crit');
  await refused(t, idp.token(rs, aud, { crit: ['b64'], b64: false }), 'header_not_allowed', 'b64');
});

void t.test('registered claims: exp required and in the future, nbf/iat not in the future, iss and aud checked', async (t) => {
  const now = nowSec();
  await refused(t, idp.token(rs, { ...aud, exp: now - 31 }), 'expired', 'expired beyond the 30 s tolerance');
  t.equal((await get('/api/x', bearer(idp.token(rs, { ...aud, exp: now - 5 })))).status, 200, 'twin: expired within the tolerance');
  await refused(t, idp.token(rs, { ...aud, nbf: now + 120 }), 'not_yet_valid', 'future nbf');
  await refused(t, idp.token(rs, { ...aud, iat: now + 120 }), 'not_yet_valid', 'future iat');
  t.equal((await get('/api/x', bearer(idp.token(rs, { ...aud, nbf: now + 5, iat: now + 5 })))).status, 200, 'twin: nbf/iat within the tolerance');
  await refused(t, idp.token(rs, { ...aud, exp: undefined }), 'missing_exp', 'missing exp');
  await refused(t, idp.token(rs, { ...aud, exp: String(now + 60) }), 'malformed', 'exp as a string');
  await refused(t, idp.token(rs, { aud: 'another-api' }), 'wrong_audience', 'wrong aud');
  await refused(t, idp.token(rs, {}), 'wrong_audience', 'no aud');
  t.equal((await get('/api/x', bearer(idp.token(rs, { aud: ['x', 'orders-api'] })))).status, 200, 'twin: aud array containing ours');
  const hits = { ...idp.hits };
  await refused(t, idp.token(rs, { ...aud, iss: 'https://evil.example.com' }), 'wrong_issuer', 'unknown iss');
  await refused(t, idp.token(rs, { ...aud, iss: idp.issuer + '/' }), 'wrong_issuer', 'iss with a trailing slash');
  t.same(idp.hits, hits, 'an unknown issuer costs no network fetch');
});

void t.test('route auth.providers: a valid token from another provider is refused', async (t) => {
  const hs = signJws({ alg: 'HS256' }, { iss: 'hs-issuer', sub: 'svc', exp: nowSec() + 60 }, HS_SECRET);
  await refused(t, hs, 'provider_not_allowed', 'HS token on a corp-only route', '/corp/x');
  t.equal((await get('/corp/x', bearer(idp.token(rs, aud)))).status, 200, 'twin: corp token');
  t.equal((await get('/api/x', bearer(hs))).status, 200, 'twin: the HS token where any provider is accepted');
  // The token cache must not let a cached verification skip the route's provider list.
  await refused(t, hs, 'provider_not_allowed', 'cached HS token on the corp-only route', '/corp/x');
});

void t.test('malformed tokens: signature stripped or truncated, bad base64url, extra segments, JWE, oversize', async (t) => {
  const good = idp.token(rs, aud);
  const [h, p, s] = good.split('.') as [string, string, string];
  await refused(t, `${h}.${p}.`, 'malformed', 'stripped signature');
  await refused(t, `${h}.${p}`, 'malformed', 'two segments');
  await refused(t, `${h}.${p}.${s.slice(0, 100)}`, 'bad_signature', 'truncated signature');
  await refused(t, `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`, 'bad_signature', 'altered signature');
  const altered = b64url({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'admin' });
  await refused(t, `${h}.${altered}.${s}`, 'bad_signature', 'payload altered after signing');
  await refused(t, `${h}.${p}+/.${s}`, 'malformed', 'base64 (not url) characters');
  await refused(t, `${h}=.${p}.${s}`, 'malformed', 'padding');
  await refused(t, `${h}.${p}x.${s}`, 'malformed', 'base64url of impossible length');
  await refused(t, `${b64url('not json')}.${p}.${s}`, 'malformed', 'header not JSON');
  await refused(t, `${h}.${b64url('[1,2]')}.${s}`, 'malformed', 'payload not an object');
  await refused(t, `${h}.${b64url(Buffer.from([0x7b, 0xc0, 0xae, 0x7d]))}.${s}`, 'malformed', 'payload not UTF-8');
  await refused(t, `${good}.${s}`, 'malformed', 'four segments');
  await refused(t, `${b64url({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.${b64url('k')}.${b64url('iv')}.${b64url('ct')}.${b64url('tag')}`, 'malformed', 'a JWE');
  await refused(t, `${h}.${b64url({ iss: idp.issuer, exp: nowSec() + 60, ...aud, pad: 'x'.repeat(100 * 1024) })}.${s}`, 'malformed', 'a 100 KB token');
  await refused(t, idp.token(rs, { ...aud, pad: 'x'.repeat(7000) }), 'malformed', 'just over 8 KiB');
  t.equal((await get('/api/x', bearer(idp.token(rs, { ...aud, pad: 'x'.repeat(5000) })))).status, 200, 'twin: a 7 KB token is fine');
  const empty = await get('/api/x', { authorization: 'Bearer ' });
  t.equal(empty.status, 401, 'an empty bearer token');
  t.match(empty.headers['www-authenticate'], /error="invalid_token"/, 'an empty bearer token is a bad token, not a missing one');
});

void t.test('two different tokens in two sources → 401; the same token twice is fine', async (t) => {
  const a = idp.token(rs, aud);
  const b = idp.token(es, aud);
  const before = up.received.length;
  const res = await get('/api/x', { ...bearer(a), cookie: `theme=dark; access_token=${b}` });
  t.equal(res.status, 401);
  t.match(res.headers['www-authenticate'], /error_description="more than one token in the request"/);
  const dup = await get('/api/x', { cookie: `access_token=${a}; access_token=${b}` });
  t.equal(dup.status, 400, 'one cookie name twice: ambiguous, a bad request (issue 22 §7; test/auth/cookies.test.ts)');
  t.equal(up.received.length, before);
  t.equal((await get('/api/x', { ...bearer(a), cookie: `access_token=${a}` })).status, 200, 'same token in both');
  t.equal((await get('/api/x', { cookie: `access_token=${b}` })).status, 200, 'the cookie alone');
});

void t.test('denials never echo the token', async (t) => {
  const token = idp.token(rs, { ...aud, exp: nowSec() - 100, sub: 'secret-subject' });
  const res = await get('/api/x', bearer(token));
  t.equal(res.status, 401);
  t.notMatch(res.text + JSON.stringify(res.headers), /secret-subject|eyJ/);
  t.ok(await eventually(() => gw.logs.length > 0));
  t.notMatch(JSON.stringify(gw.logs), token.split('.')[2]!, 'no log line carries the token');
});
