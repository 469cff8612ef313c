/** Token sources: RFC 6750 §2.1 Bearer, whole headers, RFC 6265 cookies, and disagreement between them. */
import t from 'tap';
import { bearerToken, readCookie, TokenSources, AMBIGUOUS_COOKIE, MULTIPLE_TOKENS } from '../../src/auth/token-source.js';
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

void t.test('cookies: RFC 6265 §5.2 names (trimmed), case-sensitive; quoted values', async (t) => {
  t.equal(readCookie('a=1; access_token=tok; b=2', 'access_token'), 'tok');
  t.equal(readCookie('access_token="tok"', 'access_token'), 'tok');
  t.equal(readCookie('xaccess_token=tok', 'access_token'), null);
  t.equal(readCookie('access_tokenx=tok', 'access_token'), null);
  t.equal(readCookie('access_token', 'access_token'), null, 'a pair without = is a nameless cookie');
  // issue 22 §7: the `cookie` package (and most frameworks) read these as access_token.
  t.equal(readCookie('access_token =tok', 'access_token'), 'tok', 'space before =');
  t.equal(readCookie('a=1;\taccess_token\t= tok ;b=2', 'access_token'), 'tok', 'tabs and spaces around name and value');
});

void t.test('cookies: a token cookie named twice or by an alias is ambiguous (400), whatever the values', async (t) => {
  const ambiguous: [string, string][] = [
    ['access_token=a; access_token =b', 'the issue\'s pair: two names once trimmed'],
    ['access_token=a; access_token=b', 'twice, two values'],
    ['access_token=a; x=1; access_token=a', 'twice, one value: still two cookies to choose from'],
    ['Access_Token=tok', 'another case (ASP.NET Core compares names case-insensitively)'],
    ['access.token=tok', 'PHP reads "." as "_"'],
    ['access token=tok', 'PHP reads " " as "_"'],
    ['access%5Ftoken=tok', 'PHP percent-decodes names'],
    ['access_token=a; ACCESS_TOKEN=b', 'the real one and an alias'],
  ];
  for (const [header, why] of ambiguous) t.equal(readCookie(header, 'access_token'), AMBIGUOUS_COOKIE, why);
  const sources = new TokenSources([{ header: 'Authorization' }, { cookie: 'access_token' }]);
  t.equal(sources.extract({ authorization: 'Bearer A', cookie: 'access_token =B' }), MULTIPLE_TOKENS, 'a trimmed cookie is a second token');
  t.equal(sources.extract({ authorization: 'Bearer A', cookie: 'Access_Token=B' }), AMBIGUOUS_COOKIE, 'read even when the header gave a token');
  t.equal(sources.extract({ cookie: 'access_tokens=1; my_access_token=2; access-token=3' }), null, 'the twins: other names');
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
  t.same(sources.cookieNames.map((c) => c.name), ['at']);
});

void t.test('credential strip: authorization, token headers and only the token cookie', async (t) => {
  const strip = new CredentialStrip(new TokenSources([{ header: 'authorization' }, { header: 'X-Access-Token' }, { cookie: 'at' }]));
  t.same([...strip.headers], ['authorization', 'dpop', 'x-access-token'], 'a DPoP proof (RFC 9449) goes with the token');
  t.equal(strip.cookie('theme=dark; at=secret; lang=en'), 'theme=dark; lang=en');
  t.equal(strip.cookie('at=secret'), null);
  t.equal(strip.cookie('att=1;at=2; flag'), 'att=1; flag');
  // issue 22 §7: what an upstream may read as the token cookie goes too.
  t.equal(strip.cookie('theme=dark; at =forged; lang=en'), 'theme=dark; lang=en', 'space before =');
  t.equal(strip.cookie('AT=forged; a.t=1; At=2; x=1'), 'a.t=1; x=1', 'case aliases; a.t is another name (folds to a_t)');
});
