/**
 * importJwks: every key is bound to the algorithms its type and curve allow
 * (RFC 7518 §3, RFC 8037), and keys that cannot or must not verify are skipped.
 */
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { importJwks, secretKeySet, MAX_KIDLESS_CANDIDATES, type SkippedKey } from '../../src/auth/key-set.js';
import { makeKey } from '../helpers/idp.js';

void t.test('RSA serves RS*/PS*, EC only its curve, OKP Ed25519 only EdDSA', async (t) => {
  const rsa = { ...makeKey('RS256', 'rsa').jwk, alg: undefined };
  const p256 = makeKey('ES256', 'p256').jwk;
  const p384 = makeKey('ES384', 'p384').jwk;
  const ed = makeKey('EdDSA', 'ed').jwk;
  const set = await importJwks({ keys: [rsa, p256, p384, ed] });
  t.equal(set.size, 4);
  for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']) t.equal((set.lookup('rsa', alg) as unknown[]).length, 1, `rsa ${alg}`);
  t.equal(set.lookup('rsa', 'ES256'), 'alg_not_allowed');
  t.equal(set.lookup('rsa', 'HS256'), 'alg_not_allowed', 'an RSA key never becomes an HMAC secret');
  t.equal(set.lookup('p256', 'ES384'), 'alg_not_allowed', 'P-256 is ES256 only');
  t.equal((set.lookup('p384', 'ES384') as unknown[]).length, 1);
  t.equal(set.lookup('ed', 'RS256'), 'alg_not_allowed');
  t.equal((set.lookup('ed', 'EdDSA') as unknown[]).length, 1);
  t.equal(set.lookup('nope', 'RS256'), 'unknown_kid');
  t.equal((set.lookup(undefined, 'RS256') as unknown[]).length, 1, 'a token without kid finds the keys of its alg');
  t.equal(set.lookup(undefined, 'HS256'), 'unknown_kid');
});

void t.test('a JWK naming its alg serves that alg only (RFC 7517 §4.4)', async (t) => {
  const set = await importJwks({ keys: [makeKey('RS256', 'r').jwk] });
  t.equal((set.lookup('r', 'RS256') as unknown[]).length, 1);
  t.equal(set.lookup('r', 'PS256'), 'alg_not_allowed');
  const skipped: SkippedKey[] = [];
  await t.rejects(importJwks({ keys: [{ ...makeKey('ES256', 'e').jwk, alg: 'RS256' }] }, skipped), /no usable signing key/);
  t.match(skipped, [{ kid: 'e', why: /not usable/ }], 'an EC key claiming RS256 is skipped');
});

void t.test('unusable keys are skipped and reported; a set without usable keys is an error', async (t) => {
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
  const priv = makeKey('ES256', 'priv');
  const keys = [
    { kty: 'oct', k: 'c2VjcmV0', kid: 'oct' },
    { ...makeKey('ES256', 'enc').jwk, use: 'enc' },
    { ...makeKey('ES256', 'ops').jwk, key_ops: ['encrypt'] },
    { ...priv.privateKey.export({ format: 'jwk' }), kid: 'priv' },
    { ...small, kid: 'small' },
    { kty: 'EC', crv: 'secp256k1', x: 'AA', y: 'AA', kid: 'k1' },
    { kty: 'OKP', crv: 'X25519', x: 'AA', kid: 'x25519' },
    'not an object',
    { ...makeKey('ES256', 'good').jwk, key_ops: ['verify'], ext: true },
    { ...makeKey('ES256', 'good').jwk },
  ];
  const skipped: SkippedKey[] = [];
  const set = await importJwks({ keys }, skipped);
  t.same(set.kids, ['good']);
  t.same(skipped.map((s) => s.kid), ['oct', 'enc', 'ops', 'priv', 'small', 'k1', 'x25519', null, 'good']);
  t.match(skipped.find((s) => s.kid === 'small')!.why, /2048/);
  t.match(skipped.at(-1)!.why, /duplicate kid/);
  await t.rejects(importJwks({ keys: [] }), /no usable signing key/);
  await t.rejects(importJwks({ nokeys: true }), /no "keys" array/);
  await t.rejects(importJwks({ keys: Array.from({ length: 101 }, () => ({})) }), /at most 100/);
});

void t.test('kid-less tokens try a bounded number of keys', async (t) => {
  const keys = Array.from({ length: MAX_KIDLESS_CANDIDATES + 3 }, (_, i) => makeKey('ES256', `k${i}`).jwk);
  const set = await importJwks({ keys });
  t.equal((set.lookup(undefined, 'ES256') as unknown[]).length, MAX_KIDLESS_CANDIDATES);
});

void t.test('an HS provider key set: the secret for its HS algorithms only, whatever the kid', async (t) => {
  const set = secretKeySet('s'.repeat(64), ['HS256', 'HS512']);
  t.equal((set.lookup(undefined, 'HS256') as unknown[]).length, 1);
  t.equal((set.lookup('any-kid', 'HS512', true) as unknown[]).length, 1);
  t.equal(set.lookup(undefined, 'HS384'), 'unknown_kid');
  t.equal(set.lookup(undefined, 'RS256'), 'unknown_kid');
});
