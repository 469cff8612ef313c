/** The verified-token cache: bounded LRU, never past exp or maxTtlSec, invalid once the provider's keys change. */
import t from 'tap';
import { TokenCache, tokenKey } from '../../src/auth/token-cache.js';
import { VerifiedIdentity } from '../../src/auth/identity.js';
import { secretKeySet, type KeySet } from '../../src/auth/key-set.js';
import type { Provider } from '../../src/auth/provider.js';

function provider(): { p: Provider; rotate(): void; keys: KeySet } {
  const state = { keys: secretKeySet('s'.repeat(32), ['HS256']) };
  const p = { name: 'p', keys: { current: () => state.keys, refreshForUnknownKid: () => null } } as unknown as Provider;
  return { p, rotate: () => { state.keys = secretKeySet('t'.repeat(32), ['HS256']); }, get keys() { return state.keys; } };
}

const identity = (expSec: number) => new VerifiedIdentity('p', { sub: 'a', exp: expSec }, new Set(), new Set());

void t.test('keys are SHA-256 hashes, never the token', async (t) => {
  const key = tokenKey('header.payload.signature');
  t.equal(key.length, 44);
  t.notMatch(key, /payload/);
  t.not(tokenKey('a.b.c'), tokenKey('a.b.d'));
});

void t.test('keyOf is tokenKey for every token, repeated or alternating, equal text in distinct strings', async (t) => {
  const cache = new TokenCache(10, 60);
  const a = 'hdr.' + 'p'.repeat(300) + '.sigA';
  const b = 'hdr.' + 'p'.repeat(300) + '.sigB'; // differs only at the end
  for (const token of ['', a, a, b, a, b, b, ('x' + a).slice(1), '', a]) t.equal(cache.keyOf(token), tokenKey(token), token.slice(-4));
});

void t.test('entries expire at exp, or after maxTtlSec when exp is later', async (t) => {
  const { p, keys } = provider();
  const cache = new TokenCache(10, 60);
  const now = 1_000_000_000_000;
  cache.set('short', p, identity(now / 1000 + 10), keys, now);
  cache.set('long', p, identity(now / 1000 + 3600), keys, now);
  cache.set('dead', p, identity(now / 1000 - 1), keys, now);
  t.equal(cache.size, 2, 'an already-expired token is not cached');
  t.ok(cache.get('short', now + 9_999));
  t.equal(cache.get('short', now + 10_000), null, 'gone at exp');
  t.ok(cache.get('long', now + 59_999));
  t.equal(cache.get('long', now + 60_000), null, 'gone at maxTtlSec');
});

void t.test('bounded, least recently used evicted', async (t) => {
  const { p, keys } = provider();
  const cache = new TokenCache(3, 60);
  const now = Date.now();
  for (const k of ['a', 'b', 'c']) cache.set(k, p, identity(now / 1000 + 60), keys, now);
  t.ok(cache.get('a', now), 'a used: b is now the oldest');
  cache.set('d', p, identity(now / 1000 + 60), keys, now);
  t.equal(cache.size, 3);
  t.equal(cache.get('b', now), null, 'b evicted');
  t.ok(cache.get('a', now) && cache.get('c', now) && cache.get('d', now));
});

void t.test('a key change drops the provider\'s entries', async (t) => {
  const prov = provider();
  const cache = new TokenCache(10, 60);
  const now = Date.now();
  cache.set('x', prov.p, identity(now / 1000 + 60), prov.keys, now);
  t.ok(cache.get('x', now));
  prov.rotate();
  t.equal(cache.get('x', now), null);
  t.equal(cache.size, 0);
});
