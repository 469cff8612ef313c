/**
 * DPoP (RFC 9449) in the edge shape, through real sockets: a real IdP serving its JWKS, a gateway
 * on 127.0.0.1, a recording upstream, client keys generated per run. The happy path, then one
 * failing case per check of RFC 9449 §4.3 and §7 — each 401 with the DPoP challenge, counted
 * under its reason, and never reaching the upstream.
 */
import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGateway, eventually, type TestGateway } from '../helpers/gateway.js';
import { b64url, makeKey, nowSec, TestIdp, type TestKey } from '../helpers/idp.js';
import { jkt, proof, publicJwk } from '../helpers/dpop.js';

let up: RecordingUpstream;
let idp: TestIdp;
let gw: TestGateway;
let idpKey: TestKey;
let client: TestKey, other: TestKey, clientRsa: TestKey, clientEd: TestKey;

t.before(async () => {
  idpKey = makeKey('RS256', 'idp1');
  [client, other, clientRsa, clientEd] = [makeKey('ES256'), makeKey('ES256'), makeKey('PS256'), makeKey('EdDSA')];
  idp = await TestIdp.start([idpKey]);
  up = await startUpstream();
  gw = await startGateway({
    // The test client is the trusted proxy: its X-Forwarded-Proto is believed (a TLS terminator in front).
    server: { trustedProxies: ['127.0.0.1/32'] },
    auth: {
      providers: [{ name: 'corp', issuer: idp.issuer, jwksUri: idp.jwksUri, algorithms: ['RS256'], dpop: 'allowed' }],
      bruteForce: { maxFailures: 0 },
    },
    routes: [
      { name: 'strict', match: { path: '/strict' }, upstream: up.url, auth: { dpop: 'required' } },
      { name: 'hidden', match: { path: '/hidden' }, upstream: up.url, forwardAuthorization: false },
      { name: 'api', match: { path: '/api' }, upstream: up.url },
    ],
  });
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000), 'keys loaded');
});
t.teardown(async () => {
  await gw.close();
  await Promise.all([up.close(), idp.close()]);
});

async function boundToken(key: TestKey, claims: Record<string, unknown> = {}): Promise<string> {
  return idp.token(idpKey, { cnf: { jkt: await jkt(key) }, ...claims });
}

async function send(path: string, headers: Record<string, string> | string[], method = 'GET') {
  const res = await request(`${gw.url}${path}`, { method, headers });
  const body = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body };
}

function htu(path: string): string {
  return `${gw.url}${path}`;
}

function failures(reason: string): Promise<number> {
  return gw.metrics.registry.getSingleMetric('portcullis_auth_failures_total')!.get().then(
    (m) => m.values.filter((v) => v.labels['reason'] === reason).reduce((a, v) => a + v.value, 0),
  );
}

/** A refusal: status, challenge scheme and error, the reason counted, nothing forwarded. */
async function refused(t: Test, headers: Record<string, string> | string[], error: string, reason: string, path = '/api/orders', method = 'GET') {
  const before = up.received.length;
  const counted = await failures(reason);
  const r = await send(path, headers, method);
  t.equal(r.status, 401, `${reason}: 401`);
  const challenge = String(r.headers['www-authenticate']);
  t.match(challenge, new RegExp(`DPoP realm="[^"]*", error="${error}"`), `${reason}: DPoP challenge with error=${error}`);
  t.match(challenge, /algs="ES256 RS256 PS256 EdDSA"/, `${reason}: algs advertised`);
  t.notMatch(r.body, /eyJ/, `${reason}: no token or proof echoed`);
  t.equal(await failures(reason), counted + 1, `${reason}: counted`);
  t.equal(up.received.length, before, `${reason}: upstream not reached`);
}

void t.test('happy path: a bound token with a valid proof passes, for ES256, PS256 and EdDSA keys', async (t) => {
  for (const key of [client, clientRsa, clientEd]) {
    const token = await boundToken(key);
    const p = proof(key, { htu: htu('/api/orders'), token });
    const r = await send('/api/orders?page=2', { authorization: `DPoP ${token}`, dpop: p });
    t.equal(r.status, 200, `${key.alg}: allowed`);
    const got = up.received.at(-1)!;
    t.equal(got.headers['authorization'], `DPoP ${token}`, 'token forwarded as sent (forwardAuthorization: true)');
    t.equal(got.headers['dpop'], p, 'the proof goes with it');
  }
});

void t.test('the token cache does not skip the proof: a cached token still needs a fresh, valid proof', async (t) => {
  const token = await boundToken(client);
  t.equal((await send('/api/a', { authorization: `DPoP ${token}`, dpop: proof(client, { htu: htu('/api/a'), token }) })).status, 200);
  t.equal((await send('/api/a', { authorization: `DPoP ${token}`, dpop: proof(client, { htu: htu('/api/a'), token }) })).status, 200, 'second proof, cached token');
  await refused(t, { authorization: `DPoP ${token}` }, 'invalid_dpop_proof', 'dpop_missing_proof', '/api/a');
});

void t.test('htu normalisation: default port, case, percent-encoding and query are not differences', async (t) => {
  const token = await boundToken(client);
  const port = new URL(gw.url).port;
  const u = `HTTP://127.0.0.1:${port}/api/%6Frders?x=1#frag`;
  t.equal((await send('/api/orders', { authorization: `DPoP ${token}`, dpop: proof(client, { htu: u, token }) })).status, 200);
});

void t.test('behind a trusted TLS terminator: htu carries the scheme X-Forwarded-Proto names', async (t) => {
  const token = await boundToken(client);
  const https = htu('/api/tls').replace('http:', 'https:');
  const ok = await send('/api/tls', { authorization: `DPoP ${token}`, dpop: proof(client, { htu: https, token }), 'x-forwarded-proto': 'https' });
  t.equal(ok.status, 200, 'https htu with X-Forwarded-Proto: https');
  await refused(t, { authorization: `DPoP ${token}`, dpop: proof(client, { htu: htu('/api/tls'), token }), 'x-forwarded-proto': 'https' }, 'invalid_dpop_proof', 'dpop_wrong_htu', '/api/tls');
});

void t.test('forwardAuthorization: false strips the DPoP header with the token', async (t) => {
  const token = await boundToken(client);
  t.equal((await send('/hidden/x', { authorization: `DPoP ${token}`, dpop: proof(client, { htu: htu('/hidden/x'), token }) })).status, 200);
  const got = up.received.at(-1)!;
  t.equal(got.headers['authorization'], undefined);
  t.equal(got.headers['dpop'], undefined);
});

void t.test('RFC 9449 §4.3: every check has its failing case', async (t) => {
  const token = await boundToken(client);
  const auth = `DPoP ${token}`;
  const u = htu('/api/orders');
  const ok = { htu: u, token };
  await refused(t, { authorization: auth, dpop: proof(client, { ...ok, htm: 'POST' }) }, 'invalid_dpop_proof', 'dpop_wrong_htm');
  await refused(t, { authorization: auth, dpop: proof(client, { ...ok, htu: u.replace('127.0.0.1', 'localhost') }) }, 'invalid_dpop_proof', 'dpop_wrong_htu');
  await refused(t, { authorization: auth, dpop: proof(client, { ...ok, htu: htu('/api/other') }) }, 'invalid_dpop_proof', 'dpop_wrong_htu');
  await refused(t, { authorization: auth, dpop: proof(client, { ...ok, htu: u.replace('http:', 'https:') }) }, 'invalid_dpop_proof', 'dpop_wrong_htu');
  await refused(t, { authorization: auth, dpop: proof(client, { ...ok, htu: u.replace(/:(\d+)\//, ':1/') }) }, 'invalid_dpop_proof', 'dpop_wrong_htu');
  await refused(t, { authorization: auth, dpop: proof(client, { ...ok, iat: nowSec() - 120 }) }, 'invalid_dpop_proof', 'dpop_stale');
  await refused(t, { authorization: auth, dpop: proof(client, { ...ok, iat: nowSec() + 120 }) }, 'invalid_dpop_proof', 'dpop_future');
  await refused(t, { authorization: auth, dpop: proof(client, { ...ok, token: null }) }, 'invalid_dpop_proof', 'dpop_missing_ath');
  await refused(t, { authorization: auth, dpop: proof(client, { ...ok, token: token + 'x' }) }, 'invalid_dpop_proof', 'dpop_wrong_ath');
  await refused(t, { authorization: auth, dpop: proof(client, { ...ok, claims: { jti: undefined } }) }, 'invalid_dpop_proof', 'dpop_missing_jti');
  // The proof is valid, but signed by another key than the one the token is bound to.
  await refused(t, { authorization: auth, dpop: proof(other, ok) }, 'invalid_dpop_proof', 'dpop_key_mismatch');
  // The embedded key must be public: a private JWK (d) is refused even though it verifies.
  const priv = client.privateKey.export({ format: 'jwk' });
  await refused(t, { authorization: auth, dpop: proof(client, { ...ok, header: { jwk: priv } }) }, 'invalid_dpop_proof', 'dpop_private_jwk');
  await refused(t, { authorization: auth, dpop: proof(client, { ...ok, header: { jwk: undefined } }) }, 'invalid_dpop_proof', 'dpop_bad_jwk');
  // A signature by a key other than the embedded one.
  await refused(t, { authorization: auth, dpop: proof(client, ok, other) }, 'invalid_dpop_proof', 'dpop_bad_signature');
  // alg none: no signature at all.
  const hs = proof(client, { ...ok, header: { alg: 'HS256' } }, 'any-secret').split('.');
  const none = `${b64url({ ...JSON.parse(Buffer.from(hs[0]!, 'base64url').toString()), alg: 'none' })}.${hs[1]}.`;
  await refused(t, { authorization: auth, dpop: none }, 'invalid_dpop_proof', 'dpop_alg_not_allowed');
  // HS256 keyed with the public key's own JWK text: a symmetric proof is never accepted.
  await refused(t, { authorization: auth, dpop: proof(client, { ...ok, header: { alg: 'HS256' } }, JSON.stringify(publicJwk(client))) }, 'invalid_dpop_proof', 'dpop_alg_not_allowed');
  await refused(t, { authorization: auth, dpop: proof(client, { ...ok, header: { typ: undefined } }) }, 'invalid_dpop_proof', 'dpop_wrong_typ');
  await refused(t, { authorization: auth, dpop: proof(client, { ...ok, header: { typ: 'JWT' } }) }, 'invalid_dpop_proof', 'dpop_wrong_typ');
  await refused(t, ['authorization', auth, 'dpop', proof(client, ok), 'dpop', proof(client, ok)], 'invalid_dpop_proof', 'dpop_multiple_proofs');
  await refused(t, { authorization: auth, dpop: 'not.a.jws' }, 'invalid_dpop_proof', 'dpop_malformed');
  await refused(t, { authorization: auth, dpop: 'x'.repeat(9000) }, 'invalid_dpop_proof', 'dpop_malformed');
});

void t.test('a replayed proof is refused on the same instance', async (t) => {
  const token = await boundToken(client);
  const p = proof(client, { htu: htu('/api/r'), token, jti: randomUUID() });
  t.equal((await send('/api/r', { authorization: `DPoP ${token}`, dpop: p })).status, 200, 'first use');
  await refused(t, { authorization: `DPoP ${token}`, dpop: p }, 'invalid_dpop_proof', 'dpop_replayed', '/api/r');
});

void t.test('schemes: a bound token as Bearer, an unbound one as DPoP, Bearer where DPoP is required', async (t) => {
  const bound = await boundToken(client);
  await refused(t, { authorization: `Bearer ${bound}` }, 'invalid_token', 'dpop_bound_as_bearer');
  const plain = idp.token(idpKey);
  await refused(t, { authorization: `DPoP ${plain}`, dpop: proof(client, { htu: htu('/api/orders'), token: plain }) }, 'invalid_token', 'dpop_unbound_token');
  await refused(t, { authorization: `Bearer ${plain}` }, 'invalid_token', 'dpop_required', '/strict/x');
  const r = await send('/api/x', { authorization: `Bearer ${plain}` });
  t.equal(r.status, 200, 'allowed: an unbound Bearer token still passes');
  const p = proof(client, { htu: htu('/strict/x'), token: bound });
  t.equal((await send('/strict/x', { authorization: `DPoP ${bound}`, dpop: p })).status, 200, 'required: DPoP passes');
  // A token the provider refuses, sent as DPoP, is answered in the DPoP scheme.
  const expired = await boundToken(client, { exp: nowSec() - 600 });
  await refused(t, { authorization: `DPoP ${expired}`, dpop: proof(client, { htu: htu('/api/orders'), token: expired }) }, 'invalid_token', 'expired');
});

void t.test('challenges: no token gets Bearer and DPoP where both are accepted, DPoP alone where required', async (t) => {
  const a = await send('/api/x', {});
  t.equal(a.status, 401);
  t.equal(a.headers['www-authenticate'], 'Bearer realm="portcullis", DPoP realm="portcullis", algs="ES256 RS256 PS256 EdDSA"');
  const s = await send('/strict/x', {});
  t.equal(s.status, 401);
  t.equal(s.headers['www-authenticate'], 'DPoP realm="portcullis", algs="ES256 RS256 PS256 EdDSA"');
});
