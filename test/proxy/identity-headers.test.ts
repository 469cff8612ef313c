/**
 * Identity header values from claims nobody checked for well-formed UTF-16 (issue 22 §8): a real
 * token signed with jose (the dev key, as `portcullis token` signs) carrying a lone surrogate,
 * through the gateway to a real upstream, twice — the second time from the verified-token cache.
 */
import t from 'tap';
import { request } from 'undici';
import { mintDevToken } from '../../src/auth/dev-token.js';
import { identityValue } from '../../src/proxy/identity-headers.js';
import { compileClaimPath } from '../../src/contract/claims.js';
import { startGateway, type TestGateway, waitForSigningKeys } from '../helpers/gateway.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';

void t.test('identityValue: ill-formed strings are encoded, never thrown on', async (t) => {
  const header = (claim: string) => ({ name: 'X-User-Name', claim: compileClaimPath(claim) });
  const claims = { name: 'a\ud800b', low: '\udc00', pair: '\ud83d\ude00', list: ['x\udfff', 'ok'], tail: 'é\ud800' };
  t.equal(identityValue(claims, header('name')), 'a%EF%BF%BDb', 'a lone high surrogate: U+FFFD, percent-encoded');
  t.equal(identityValue(claims, header('low')), '%EF%BF%BD', 'a lone low surrogate');
  t.equal(identityValue(claims, header('pair')), '%F0%9F%98%80', 'the twin: a real pair is one code point');
  t.equal(identityValue(claims, header('list')), 'x%EF%BF%BD,ok', 'array elements too');
  t.equal(identityValue(claims, header('tail')), '%C3%A9%EF%BF%BD');
});

let up: RecordingUpstream;
let gw: TestGateway;
t.before(async () => {
  up = await startUpstream();
  gw = await startGateway({
    auth: { providers: [{ name: 'dev', issuer: 'portcullis-dev', jwksFile: 'config/dev-jwks.json', algorithms: ['ES256'] }] },
    routes: [{ name: 'api', match: { path: '/api' }, upstream: up.url, identityHeaders: { 'X-User-Id': 'sub', 'X-User-Name': 'name' } }],
  });
  await waitForSigningKeys(gw);
});
t.teardown(async () => {
  await gw?.close();
  await up?.close();
});

void t.test('a signed claim with a lone surrogate: 200 and an encoded header, on the first and the cached request', async (t) => {
  const token = await mintDevToken({ sub: 'alice', claims: ['name=\ud800mallory'] });
  // JSON's "\ud800" escape: valid UTF-8 on the wire, a lone surrogate once parsed.
  t.match(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'), '"name":"\\ud800mallory"', 'the signed payload spells it');
  for (const round of ['verified', 'from the token cache']) {
    const before = up.received.length;
    const res = await request(gw.url + '/api/me', { headers: { authorization: `Bearer ${token}` } });
    const body = await res.body.text();
    t.equal(res.statusCode, 200, `${round}: ${body}`);
    t.equal(up.received.length, before + 1, `${round}: forwarded`);
    t.equal(up.received.at(-1)!.headers['x-user-name'], '%EF%BF%BDmallory', round);
    t.equal(up.received.at(-1)!.headers['x-user-id'], 'alice', round);
  }
  t.notOk(gw.logs.some((l) => l['level'] === 50 || l['msg'] === 'internal error'), 'no internal error logged');
});
