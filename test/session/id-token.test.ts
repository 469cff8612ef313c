/**
 * ID token checks of the code flow (src/session/id-token.ts) with real keys served over HTTP by
 * the test IdP (signed with node:crypto, verified by the gateway's jose-based key store): each
 * rule has its failing twin next to the passing token.
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import pino from 'pino';
import { UriJwksFetcher } from '../../src/auth/jwks-fetch.js';
import { KeyStore } from '../../src/auth/key-store.js';
import { GatewayMetrics } from '../../src/observe/metrics.js';
import { validateConfig } from '../../src/config/validate.js';
import { IdTokenVerifier } from '../../src/session/id-token.js';
import { makeKey, nowSec, TestIdp } from '../helpers/idp.js';

const key = makeKey('RS256');
let idp: TestIdp;
let store: KeyStore;
let verifier: IdTokenVerifier;
const CLIENT = 'web-client';
const NONCE = 'n-0123456789';
const ACCESS = 'an-access-token';
const atHash = (token: string): string => createHash('sha256').update(token).digest().subarray(0, 16).toString('base64url');

t.before(async () => {
  idp = await TestIdp.start([key]);
  const cfg = validateConfig({ listeners: { admin: { host: '127.0.0.1', port: 0 } }, routes: [], auth: { providers: [{ name: 'op', issuer: idp.issuer, jwksUri: idp.jwksUri, algorithms: ['RS256'], audiences: ['some-api'] }] } });
  store = new KeyStore({ provider: 'op', sourceKey: 'x', fetcher: new UriJwksFetcher(idp.jwksUri), cooldownSec: 0, logger: pino({ level: 'silent' }), metrics: new GatewayMetrics({ defaultMetrics: false }) });
  store.start();
  verifier = new IdTokenVerifier(cfg.auth!.providers[0]!, CLIENT, store);
});
t.teardown(async () => {
  await store.close();
  await idp.close();
});

const good = (extra: Record<string, unknown> = {}): string => idp.token(key, { aud: CLIENT, nonce: NONCE, at_hash: atHash(ACCESS), ...extra });

void t.test('a conforming ID token passes, whatever the provider\'s API audiences', async (t) => {
  const r = await verifier.verify(good(), NONCE, ACCESS);
  t.ok(r.ok);
  if (r.ok) t.equal(r.identity.sub, 'alice');
});

void t.test('each rule refuses its twin', async (t) => {
  const cases: [string, string, string | null, string][] = [
    ['nonce', good(), 'another-nonce', 'nonce_mismatch'],
    ['nonce missing', good({ nonce: undefined }), NONCE, 'nonce_mismatch'],
    ['aud', good({ aud: 'someone-else' }), NONCE, 'wrong_audience'],
    ['aud = the API audience', good({ aud: 'some-api' }), NONCE, 'wrong_audience'],
    ['azp with several audiences', good({ aud: [CLIENT, 'other'], azp: 'other' }), NONCE, 'wrong_azp'],
    ['at_hash', good({ at_hash: atHash('another-token') }), NONCE, 'at_hash_mismatch'],
    ['expired', good({ exp: nowSec() - 3600 }), NONCE, 'expired'],
    ['issuer', good({ iss: 'https://evil.example' }), NONCE, 'wrong_issuer'],
  ];
  for (const [name, token, nonce, reason] of cases) {
    const r = await verifier.verify(token, nonce, ACCESS);
    t.same(r, { ok: false, reason }, name);
  }
  const forged = good().slice(0, -4) + 'AAAA';
  t.same(await verifier.verify(forged, NONCE, ACCESS), { ok: false, reason: 'bad_signature' }, 'signature');
  t.ok((await verifier.verify(good({ aud: [CLIENT, 'other'], azp: CLIENT }), NONCE, ACCESS)).ok, 'azp = us passes');
  t.ok((await verifier.verify(good({ at_hash: undefined }), NONCE, ACCESS)).ok, 'no at_hash: nothing to check');
  t.ok((await verifier.verify(good({ nonce: undefined }), null, ACCESS)).ok, 'a refreshed ID token carries no nonce');
});
