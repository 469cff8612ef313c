/**
 * The parts of DPoP that need no sockets: the config keys (defaults, errors naming the key), the
 * RFC 7638 thumbprint against jose's independent implementation, the stateless nonce, the
 * bounded local replay set, and the htu normalisation.
 */
import t from 'tap';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { validateConfig } from '../../src/config/validate.js';
import { jwkThumbprint, publicJwkProblem } from '../../src/auth/dpop/thumbprint.js';
import { NonceIssuer } from '../../src/auth/dpop/nonce.js';
import { LocalReplaySet } from '../../src/auth/dpop/replay.js';
import { normaliseHtuPath } from '../../src/auth/dpop/htu.js';
import { makeKey } from '../helpers/idp.js';
import { problemsOf } from '../helpers/config-problems.js';

const LISTENERS = { http: { host: '127.0.0.1', port: 0 } };

void t.test('config: defaults keep today\'s contract; bad values name their key', async (t) => {
  const cfg = validateConfig({ listeners: LISTENERS, auth: { providers: [{ name: 'p', issuer: 'i', jwksUri: 'http://127.0.0.1:1/jwks' }] }, routes: [] });
  t.equal(cfg.auth!.providers[0]!.dpop, undefined, 'provider dpop absent: off');
  t.same(cfg.auth!.dpop, {
    algorithms: ['ES256', 'RS256', 'PS256', 'EdDSA'], proofMaxAgeSec: 60, clockToleranceSec: 5, keyCacheEntries: 10000,
    replayStore: 'auto', replayMaxEntries: 100000, nonce: { enabled: false, ttlSec: 300 },
  });
  const problems = problemsOf({
    listeners: LISTENERS,
    auth: {
      providers: [{ name: 'p', issuer: 'i', jwksUri: 'http://127.0.0.1:1/jwks', dpop: 'sometimes' }],
      dpop: { algorithms: ['HS256'], proofMaxAgeSec: 0, nonce: { enabled: true, secret: 'short' }, replayStore: 'redis' },
    },
    routes: [{ name: 'r', match: {}, upstream: 'http://127.0.0.1:1', auth: { dpop: true } }],
  });
  t.ok(problems.some((p) => p.startsWith('auth.providers[0].dpop:')), 'provider dpop named');
  t.ok(problems.some((p) => p.startsWith('auth.dpop.algorithms[0]:') && p.includes('asymmetric')), 'HS256 refused, named');
  t.ok(problems.some((p) => p.startsWith('auth.dpop.proofMaxAgeSec:')), 'window bound named');
  t.ok(problems.some((p) => p.startsWith('auth.dpop.nonce.secret:')), 'short nonce secret named');
  t.ok(problems.some((p) => p.startsWith('auth.dpop.replayStore:')), 'replay store named');
  t.ok(problems.some((p) => p.startsWith('routes[0].auth')), 'route dpop named');
  t.same(problemsOf({ listeners: LISTENERS, auth: { providers: [], dpop: { algorithms: ['none'] } }, routes: [] }).length, 1, 'none refused');
});

void t.test('RFC 7638 thumbprint: the same as jose\'s, for EC, RSA and OKP keys; private members refused', async (t) => {
  for (const alg of ['ES256', 'ES384', 'RS256', 'EdDSA'] as const) {
    const k = makeKey(alg);
    const jwk = k.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
    t.equal(publicJwkProblem({ ...jwk, kid: 'x', use: 'sig' }), null, `${alg}: public`);
    t.equal(jwkThumbprint({ ...jwk, kid: 'extra members do not count' }), await calculateJwkThumbprint(jwk as JWK, 'sha256'), `${alg}: same thumbprint`);
    t.equal(publicJwkProblem(k.privateKey.export({ format: 'jwk' })), 'dpop_private_jwk', `${alg}: private JWK refused`);
  }
  t.equal(publicJwkProblem({ kty: 'oct', k: 'c2VjcmV0' }), 'dpop_private_jwk', 'a symmetric key is private material');
  t.equal(publicJwkProblem({ kty: 'EC', crv: 'P-256', x: 'a' }), 'dpop_bad_jwk', 'missing y');
  t.equal(publicJwkProblem('{"kty":"EC"}'), 'dpop_bad_jwk', 'not an object');
});

void t.test('nonce: accepted within its ttl by any issuer with the secret, refused when forged or old', async (t) => {
  const secret = 'x'.repeat(32);
  const a = new NonceIssuer(secret, 60);
  const b = new NonceIssuer(secret, 60);
  const now = 1_800_000_000;
  const n = a.current(now);
  t.equal(a.current(now + 10), n, 'the same nonce within half its life');
  t.not(a.current(now + 31), n, 'a new one after half its life');
  t.equal(b.check(n, now + 1), 'fresh', 'stateless: another instance accepts it');
  t.equal(b.check(n, now + 40), 'aging', 'past half its life: the next one is sent');
  t.equal(b.check(n, now + 61), 'invalid', 'past its ttl');
  t.equal(new NonceIssuer('y'.repeat(32), 60).check(n, now + 1), 'invalid', 'another secret');
  t.equal(a.check(n.slice(0, -1) + (n.endsWith('A') ? 'B' : 'A'), now + 1), 'invalid', 'tampered');
  t.equal(a.check(undefined, now), 'invalid');
});

void t.test('local replay set: remembers for the window, forgets after it, bounded', async (t) => {
  const s = new LocalReplaySet(1000);
  t.equal(s.remember('a', 0, 100), 'fresh');
  t.equal(s.remember('a', 50, 100), 'replayed');
  t.equal(s.remember('a', 100, 100), 'fresh', 'after the window it may pass again (iat has gone stale by then)');
  for (let i = 0; i < 1000; i++) s.remember(`k${i}`, 200, 100);
  t.equal(s.size, 1000);
  t.equal(s.remember('full', 250, 100), 'unavailable', 'full of live entries: refuse rather than forget');
  t.equal(s.remember('later', 301, 100), 'fresh', 'expired entries are dropped from the front');
  t.ok(s.size <= 1000);
});

void t.test('htu path normalisation (RFC 3986 §6.2.2)', async (t) => {
  t.equal(normaliseHtuPath('/a/%7Eb/%2f/%c3%A9'), '/a/~b/%2F/%C3%A9');
  t.equal(normaliseHtuPath('//a///b'), '/a/b');
  t.equal(normaliseHtuPath(''), '/');
});
