/**
 * parseJwt: the shape checks that run before any key lookup (RFC 7515 §7.1,
 * RFC 7519 §7.2), each with a passing twin.
 */
import t from 'tap';
import { parseJwt } from '../../src/auth/jwt.js';
import { b64url } from '../helpers/idp.js';

const header = { alg: 'RS256', kid: 'k1', typ: 'JWT' };
const payload = { iss: 'https://idp', sub: 'alice', exp: 2_000_000_000 };
const jws = (h: unknown = header, p: unknown = payload, sig = 'c2ln') => `${b64url(h as object)}.${b64url(p as object)}.${sig}`;

void t.test('a well-formed compact JWS parses; iss picks the provider, unverified', async (t) => {
  const parsed = parseJwt(jws());
  t.not(typeof parsed, 'string');
  if (typeof parsed === 'string') return;
  t.equal(parsed.alg, 'RS256');
  t.equal(parsed.kid, 'k1');
  t.equal(parsed.iss, 'https://idp');
  t.same(parsed.payload, payload);
  t.equal((parseJwt(jws({ alg: 'ES256' })) as { kid: unknown }).kid, undefined, 'kid is optional');
  t.equal((parseJwt(jws(header, { ...payload, iss: 42 })) as { iss: unknown }).iss, undefined, 'a non-string iss names no provider');
});

void t.test('structure: exactly three non-empty base64url segments', async (t) => {
  const good = jws();
  const [h, p, s] = good.split('.');
  const cases: [string, string][] = [
    ['', 'empty'], [`${h}.${p}`, 'two segments'], [`${h}.${p}.`, 'empty signature'], [`.${p}.${s}`, 'empty header'],
    [`${h}..${s}`, 'empty payload'], [`${good}.x`, 'four segments'], [`${h}.e.i.c.t`, 'five segments (JWE)'],
    [`${h}.${p}.${s}=`, 'padding'], [`${h}.${p}+.${s}`, '+'], [`${h}.${p}/.${s}`, '/'], [`${h}.${p}.${s} `, 'space'],
    [`${h}.${p}.a`, 'one-character signature'], [`${h}x.${p}.${s}`, 'header of length 4n+1'],
  ];
  for (const [token, what] of cases) t.equal(parseJwt(token), 'malformed', what);
});

void t.test('header and payload must be JSON objects in UTF-8', async (t) => {
  t.equal(parseJwt(`${b64url('nope')}.${b64url(payload)}.c2ln`), 'malformed', 'header not JSON');
  t.equal(parseJwt(jws([1])), 'malformed', 'header an array');
  t.equal(parseJwt(jws(header, null)), 'malformed', 'payload null');
  t.equal(parseJwt(jws(header, 'str')), 'malformed', 'payload a JSON string');
  t.equal(parseJwt(`${b64url(header)}.${b64url(Buffer.from([0x7b, 0xff, 0x7d]))}.c2ln`), 'malformed', 'invalid UTF-8');
  t.equal(parseJwt(jws({ kid: 'k' })), 'malformed', 'no alg');
  t.equal(parseJwt(jws({ alg: '' })), 'malformed', 'empty alg');
  t.equal(parseJwt(jws({ alg: 256 })), 'malformed', 'alg not a string');
  t.equal(parseJwt(jws({ alg: 'RS256', kid: 7 })), 'malformed', 'kid not a string');
  t.equal(parseJwt(jws({ alg: 'RS256', kid: '' })), 'malformed', 'empty kid');
  t.equal(parseJwt(jws({ alg: 'RS256', kid: 'k'.repeat(257) })), 'malformed', 'kid over 256 characters');
  t.not(typeof parseJwt(jws({ alg: 'RS256', kid: 'k'.repeat(256) })), 'string', 'twin: a 256-character kid');
});

void t.test('alg none in any casing; key-locating, crit and b64 headers', async (t) => {
  for (const alg of ['none', 'None', 'NONE', 'nONe']) t.equal(parseJwt(jws({ alg })), 'alg_not_allowed', alg);
  t.not(typeof parseJwt(jws({ alg: 'nonE1' })), 'string', 'twin: a mere 5-letter alg parses (the provider refuses it)');
  for (const name of ['jku', 'jwk', 'x5u', 'x5c', 'crit', 'b64']) {
    t.equal(parseJwt(jws({ ...header, [name]: name === 'crit' ? ['x'] : 'v' })), 'header_not_allowed', name);
  }
  t.not(typeof parseJwt(jws({ ...header, x5t: 'thumb', cty: 'JWT' })), 'string', 'twin: x5t and cty are harmless');
});
