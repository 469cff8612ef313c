/** Token sources: RFC 6750 §2.1 Bearer, whole headers, RFC 6265 cookies, and disagreement between them. */
import t from 'tap';
import { bearerToken, readCookie, TokenSources, MULTIPLE_TOKENS } from '../../src/auth/token-source.js';
import { CredentialStrip } from '../../src/auth/strip.js';

void t.test('Bearer: case-insensitive scheme, 1*SP, other schemes are not bearer tokens', async (t) => {
  t.equal(bearerToken('Bearer abc'), 'abc');
  t.equal(bearerToken('bearer abc'), 'abc');
  t.equal(bearerToken('BEARER   abc'), 'abc');
  t.equal(bearerToken('Bearer'), '', 'no token: empty, refused later as malformed');
  t.equal(bearerToken('Bearerabc'), null);
  t.equal(bearerToken('Basic abc'), null);
  t.equal(bearerToken('Bear'), null);
  t.equal(bearerToken('Bearer a b'), 'a b', 'kept whole; the parser refuses it');
});

void t.test('cookies: exact, case-sensitive names; quoted values; a repeated name with another value', async (t) => {
  t.equal(readCookie('a=1; access_token=tok; b=2', 'access_token'), 'tok');
  t.equal(readCookie('access_token="tok"', 'access_token'), 'tok');
  t.equal(readCookie('xaccess_token=tok', 'access_token'), null);
  t.equal(readCookie('access_tokenx=tok', 'access_token'), null);
  t.equal(readCookie('Access_Token=tok', 'access_token'), null);
  t.equal(readCookie('access_token', 'access_token'), null, 'a name without =');
  t.equal(readCookie('access_token=a; x=1; access_token=a', 'access_token'), 'a', 'same value twice is one token');
  t.equal(readCookie('access_token=a; access_token=b', 'access_token'), MULTIPLE_TOKENS);
});

void t.test('several sources: first found wins; two different tokens are refused', async (t) => {
  const sources = new TokenSources([{ header: 'Authorization' }, { header: 'X-Access-Token' }, { cookie: 'at' }]);
  t.equal(sources.extract({}), null);
  t.equal(sources.extract({ authorization: 'Bearer A' }), 'A');
  t.equal(sources.extract({ 'x-access-token': ' B ' }), 'B', 'another header is read whole (trimmed)');
  t.equal(sources.extract({ cookie: 'at=C' }), 'C');
  t.equal(sources.extract({ authorization: 'Bearer A', 'x-access-token': 'A', cookie: 'at=A' }), 'A');
  t.equal(sources.extract({ authorization: 'Bearer A', cookie: 'at=C' }), MULTIPLE_TOKENS);
  t.equal(sources.extract({ 'x-access-token': 'B', cookie: 'at=C' }), MULTIPLE_TOKENS);
  t.equal(sources.extract({ authorization: 'Basic xyz', cookie: 'at=C' }), 'C', 'Basic is not a token source');
  t.same(sources.headerNames, ['x-access-token']);
  t.same(sources.cookieNames, ['at']);
});

void t.test('credential strip: authorization, token headers and only the token cookie', async (t) => {
  const strip = new CredentialStrip(new TokenSources([{ header: 'authorization' }, { header: 'X-Access-Token' }, { cookie: 'at' }]));
  t.same([...strip.headers], ['authorization', 'x-access-token']);
  t.equal(strip.cookie('theme=dark; at=secret; lang=en'), 'theme=dark; lang=en');
  t.equal(strip.cookie('at=secret'), null);
  t.equal(strip.cookie('att=1;at=2; flag'), 'att=1; flag');
});
