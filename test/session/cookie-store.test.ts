/**
 * The cookie store's pieces: sealing (JWE dir + A256GCM, jose) with secret rotation, the cookie
 * attributes and the `__Host-` prefix, and splitting a large session across cookies.
 */
import t from 'tap';
import { compactDecrypt, decodeProtectedHeader } from 'jose';
import { CookieJarSpec, CHUNK_BYTES, readChunked } from '../../src/session/cookies.js';
import { Sealer } from '../../src/session/sealer.js';
import { SECRET_A, SECRET_B } from './fixture.js';

const SECRET_C = 'session-secret-C-0123456789abcdefghijkl';

void t.test('sealed as JWE dir + A256GCM; opens under the current and previous secrets only', async (t) => {
  const old = new Sealer([SECRET_A]);
  const sealed = await old.seal('session', { id: 'x', n: 1 });
  t.same(decodeProtectedHeader(sealed), { alg: 'dir', enc: 'A256GCM', kid: decodeProtectedHeader(sealed).kid });
  t.same(await old.open('session', sealed, 10_000), { id: 'x', n: 1 });
  const rotated = new Sealer([SECRET_B, SECRET_A]);
  t.same(await rotated.open('session', sealed, 10_000), { id: 'x', n: 1 }, 'readable after rotation (previous secret)');
  const resealed = await rotated.seal('session', { id: 'y' });
  t.equal(await old.open('session', resealed, 10_000), null, 'sealed under the new current secret');
  t.equal(await new Sealer([SECRET_B]).open('session', sealed, 10_000), null, 'the dropped secret no longer opens it');
  t.equal(await new Sealer([SECRET_C]).open('session', sealed, 10_000), null, 'another secret');
  t.equal(await old.open('flow', sealed, 10_000), null, 'a session never opens as a flow');
  const parts = sealed.split('.');
  parts[3] = (parts[3]![0] === 'A' ? 'B' : 'A') + parts[3]!.slice(1);
  t.equal(await old.open('session', parts.join('.'), 10_000), null, 'tampered ciphertext');
  t.equal(await old.open('session', sealed, 10), null, 'longer than allowed: refused before decrypting');
  await t.rejects(compactDecrypt(sealed, new Uint8Array(32)), 'not decryptable with another key');
});

void t.test('cookie attributes: HttpOnly, SameSite=Lax, Path=/; Secure and __Host- over HTTPS', async (t) => {
  const jar = new CookieJarSpec('portcullis_session', undefined);
  const [plain] = jar.write(jar.names('http'), 'v', 60, 1);
  t.equal(plain, 'portcullis_session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax');
  const [tls] = jar.write(jar.names('https'), 'v', 60, 1);
  t.equal(tls, '__Host-portcullis_session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure');
  const shared = new CookieJarSpec('portcullis_session', 'example.com');
  const [domain] = shared.write(shared.names('https'), 'v', 60, 1);
  t.equal(domain, 'portcullis_session=v; Path=/; Domain=example.com; Max-Age=60; HttpOnly; SameSite=Lax; Secure', 'a Domain cookie cannot be __Host-');
});

void t.test('a large session is split across cookies and read back whole', async (t) => {
  const jar = new CookieJarSpec('s', undefined);
  const names = jar.names('http');
  const value = 'x'.repeat(CHUNK_BYTES * 2 + 10);
  const set = jar.write(names, value, 60, 4);
  t.equal(set.length, 4, 'three chunks, the fourth slot (sent by the browser) expired');
  t.match(set[0], /^s=3~x+;/);
  t.match(set[1], /^s_1=x+;/);
  t.match(set[3], /^s_3=; .*Max-Age=0/);
  const header = set.filter((c) => !c.includes('Max-Age=0')).map((c) => c.split(';')[0]).join('; ');
  t.equal(readChunked(header, 's'), value);
  t.equal(readChunked(`${header}; s_3=stale`, 's'), value, 'a stale extra chunk is ignored');
  t.equal(readChunked(header.replace(/s_2=x+/, ''), 's'), null, 'a missing chunk: no session');
  t.equal(readChunked('s=9~x', 's'), null, 'an absurd count');
  t.equal(readChunked('s=a; s=b', 's'), null, 'two different values: no session');
  t.equal(readChunked('s=' + 'y'.repeat(10), 's'), 'y'.repeat(10), 'one cookie');
  t.throws(() => jar.write(names, 'x'.repeat(CHUNK_BYTES * 5), 60, 0), RangeError, 'past the bound');
  t.equal(jar.write(names, 'short', 60, 0).length, 1, 'one Set-Cookie when nothing else needs expiring');
  t.equal(jar.write(names, 'short', 60, 3).length, 3, 'the two chunks the browser still sent are expired');
});
