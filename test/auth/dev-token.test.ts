/** `portcullis token` internals: TTL and claim parsing, and a minted token verified against the shipped dev JWKS. */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { compactVerify, importJWK, decodeJwt, decodeProtectedHeader } from 'jose';
import { DEV_ISSUER, defaultDevKeyFile, mintDevToken, parseClaims, parseTtl } from '../../src/auth/dev-token.js';

void t.test('TTLs', async (t) => {
  t.equal(parseTtl('15m'), 900);
  t.equal(parseTtl('30s'), 30);
  t.equal(parseTtl('2h'), 7200);
  t.equal(parseTtl('1d'), 86400);
  t.equal(parseTtl('45'), 45);
  for (const bad of ['', '0', '-5m', '1w', '1.5h', '31d', 'm', '15 m']) t.throws(() => parseTtl(bad), { code: 'PORTCULLIS_ERR_DEV_TOKEN' }, bad);
});

void t.test('claims: strings, JSON arrays/objects, dotted paths nest; reserved and prototype names refused', async (t) => {
  t.same(parseClaims(['tenant=acme', 'n=42', 'realm_access.roles=["admin","ops"]', 'a.b.c=x', 'eq=a=b']), {
    tenant: 'acme', n: '42', realm_access: { roles: ['admin', 'ops'] }, a: { b: { c: 'x' } }, eq: 'a=b',
  });
  for (const bad of ['noequals', '=x', 'iss=me', 'exp=1', 'sub=x', 'a..b=1', '__proto__.x=1', 'x.constructor=1', 'j=[oops']) {
    t.throws(() => parseClaims([bad]), { code: 'PORTCULLIS_ERR_DEV_TOKEN' }, bad);
  }
  t.equal(({} as Record<string, unknown>)['x'], undefined, 'no prototype pollution');
});

void t.test('a minted token verifies with the shipped dev JWKS and carries what was asked', async (t) => {
  const token = await mintDevToken({ sub: 'alice', scope: 'orders:read', claims: ['tenant=acme'], ttl: '10m', aud: 'orders-api' });
  const jwks = JSON.parse(readFileSync(defaultDevKeyFile().replace('dev-private-key.jwk.json', 'dev-jwks.json'), 'utf8')) as { keys: Record<string, unknown>[] };
  const header = decodeProtectedHeader(token);
  t.equal(header.alg, 'ES256');
  t.equal(header.kid, jwks.keys[0]!['kid']);
  await compactVerify(token, await importJWK(jwks.keys[0]!, 'ES256'));
  const claims = decodeJwt(token);
  t.match(claims, { iss: DEV_ISSUER, sub: 'alice', scope: 'orders:read', tenant: 'acme', aud: 'orders-api' });
  t.equal(claims.exp! - claims.iat!, 600);
  await t.rejects(mintDevToken({ sub: '' }), { code: 'PORTCULLIS_ERR_DEV_TOKEN' });
});
