import t from 'tap';
import type { Identity } from '../../src/contract/types.js';
import { boundValue, compileClientKey } from '../../src/ratelimit/keys.js';
import { makeCtx } from './ctx.js';

const alice: Identity = { provider: 'corp', sub: 'alice', claims: { sub: 'alice', tenant: { id: 'acme', n: 42 }, admin: true, roles: ['a'] } };

void t.test('ip: the trusted client address', async (t) => {
  const key = compileClientKey('ip', 'portcullis:', 'per-ip');
  t.equal(key.keyOf(makeCtx()), 'portcullis:rl:{per-ip:i:192.0.2.7}');
  t.equal(key.keyOf(makeCtx({ ip: '2001:db8::1', identity: alice })), 'portcullis:rl:{per-ip:i:2001:db8::1}');
});

void t.test('sub: the token subject, else the address', async (t) => {
  const key = compileClientKey('sub', 'portcullis:', 'per-user');
  t.equal(key.keyOf(makeCtx({ identity: alice })), 'portcullis:rl:{per-user:v:alice}');
  t.equal(key.keyOf(makeCtx()), 'portcullis:rl:{per-user:i:192.0.2.7}', 'anonymous: falls back to ip');
  t.equal(key.keyOf(makeCtx({ identity: { provider: 'corp', sub: null, claims: {} } })), 'portcullis:rl:{per-user:i:192.0.2.7}');
  const spoof = makeCtx({ identity: { provider: 'corp', sub: '192.0.2.7', claims: {} } });
  t.not(key.keyOf(spoof), key.keyOf(makeCtx()), 'a sub that looks like an address never shares the address bucket');
});

void t.test('claim:<path>: a dotted claim, scalars only, else the address', async (t) => {
  t.equal(compileClientKey('claim:tenant.id', '', 'per-tenant').keyOf(makeCtx({ identity: alice })), 'rl:{per-tenant:v:acme}');
  t.equal(compileClientKey('claim:tenant.n', '', 'p').keyOf(makeCtx({ identity: alice })), 'rl:{p:v:42}');
  t.equal(compileClientKey('claim:admin', '', 'p').keyOf(makeCtx({ identity: alice })), 'rl:{p:v:true}');
  t.equal(compileClientKey('claim:roles', '', 'p').keyOf(makeCtx({ identity: alice })), 'rl:{p:i:192.0.2.7}', 'arrays are not keys');
  t.equal(compileClientKey('claim:tenant', '', 'p').keyOf(makeCtx({ identity: alice })), 'rl:{p:i:192.0.2.7}', 'objects are not keys');
  t.equal(compileClientKey('claim:tenant.missing', '', 'p').keyOf(makeCtx({ identity: alice })), 'rl:{p:i:192.0.2.7}');
  t.equal(compileClientKey('claim:tenant.id', '', 'p').keyOf(makeCtx()), 'rl:{p:i:192.0.2.7}', 'no identity');
  const proto = makeCtx({ identity: { provider: 'x', sub: 's', claims: {} } });
  t.equal(compileClientKey('claim:constructor.name', '', 'p').keyOf(proto), 'rl:{p:i:192.0.2.7}', 'inherited properties are not claims');
});

void t.test('header:<name>: case-insensitive, first of repeated values, else the address', async (t) => {
  const key = compileClientKey('header:X-Api-Key', 'pc:', 'per-key');
  t.equal(key.keyOf(makeCtx({ headers: { 'x-api-key': 'k-123' } })), 'pc:rl:{per-key:v:k-123}');
  t.equal(key.keyOf(makeCtx({ headers: { 'x-api-key': ['k-1', 'k-2'] } })), 'pc:rl:{per-key:v:k-1}');
  t.equal(key.keyOf(makeCtx({ headers: { 'x-api-key': '' } })), 'pc:rl:{per-key:i:192.0.2.7}');
  t.equal(key.keyOf(makeCtx()), 'pc:rl:{per-key:i:192.0.2.7}');
});

void t.test('attacker-sized values are hashed into short keys; raw values cannot pose as hashes', async (t) => {
  const key = compileClientKey('header:x-api-key', 'portcullis:', 'p');
  const huge = 'A'.repeat(16_384);
  const k = key.keyOf(makeCtx({ headers: { 'x-api-key': huge } }));
  t.ok(k.length < 80, `a 16 KB value makes a ${k.length}-byte key`);
  t.match(k, /^portcullis:rl:\{p:v:#[A-Za-z0-9_-]{43}\}$/);
  t.not(k, key.keyOf(makeCtx({ headers: { 'x-api-key': huge + 'B' } })), 'different values, different buckets');
  const exactly64 = 'x'.repeat(64);
  t.equal(boundValue(exactly64), exactly64, '64 characters are kept as they are');
  t.equal(boundValue('x'.repeat(65)).length, 44);
  const fakeHash = boundValue(huge);
  t.not(boundValue(fakeHash), fakeHash, 'a value that starts with # is hashed too');
});

void t.test('unknown specs are a bug, not a silent ip key', async (t) => {
  t.throws(() => compileClientKey('cookie:x', '', 'p'), /unknown rate-limit key/);
});
