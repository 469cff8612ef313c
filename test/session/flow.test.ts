/**
 * The sign-in flow on the edge, end to end against a real OP (oidc-provider): a browser without
 * a session on a login route is sent to sign in, through the provider's authorization endpoint
 * (state, nonce, PKCE S256) and back through the callback to the page it asked for, where the
 * upstream sees the identity headers from the session's claims. API requests keep getting 401.
 */
import t from 'tap';
import { CookieClient } from '../helpers/cookie-client.js';
import { TEST_USER } from '../helpers/op.js';
import { startBed, type Bed } from './fixture.js';

let bed: Bed;
t.before(async () => {
  bed = await startBed();
});
t.teardown(() => bed.close());

void t.test('a browser is signed in and lands on the page it asked for', async (t) => {
  const browser = new CookieClient();
  const hops = await browser.follow(`${bed.base}/orders/7?tab=items`);
  const first = hops[0]!;
  t.equal(first.status, 302, 'no session: redirected');
  t.equal(first.location, `${bed.base}/.portcullis/sign-in?rd=${encodeURIComponent('/orders/7?tab=items')}`);
  const toOp = hops[1]!;
  t.equal(toOp.status, 302);
  const auth = new URL(toOp.location!);
  t.equal(auth.origin + auth.pathname, `${bed.op.issuer}/auth`, 'to the discovered authorization_endpoint');
  t.equal(auth.searchParams.get('response_type'), 'code');
  t.equal(auth.searchParams.get('client_id'), bed.op.clientId);
  t.equal(auth.searchParams.get('code_challenge_method'), 'S256');
  t.match(auth.searchParams.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  t.match(auth.searchParams.get('state'), /^[A-Za-z0-9_-]{43}$/);
  t.match(auth.searchParams.get('nonce'), /^[A-Za-z0-9_-]{43}$/);
  t.equal(auth.searchParams.get('scope'), 'openid email profile roles offline_access');
  const flowCookie = toOp.setCookies.find((c) => c.startsWith('portcullis_session_f'));
  t.ok(flowCookie, 'the flow is bound to this browser by a cookie');
  t.match(flowCookie, /HttpOnly/);
  t.match(flowCookie, /SameSite=Lax/);

  const last = hops.at(-1)!;
  t.equal(last.status, 200, 'the page itself');
  t.equal(last.url, `${bed.base}/orders/7?tab=items`);
  const seen = bed.upstream.received.at(-1)!;
  t.equal(seen.url, '/orders/7?tab=items');
  t.equal(seen.headers['x-user-email'], TEST_USER.email);
  t.equal(seen.headers['x-user-id'], TEST_USER.sub);
  t.notOk(String(seen.headers['cookie'] ?? '').includes('portcullis_session_f'), 'flow cookie cleared after the callback');
  const tokenCalls = bed.op.tokenRequests.filter((r) => r.grantType === 'authorization_code');
  t.equal(tokenCalls.length, 1);
  t.ok(tokenCalls[0]!.codeVerifier, 'the PKCE verifier went with the code');
  t.ok(tokenCalls[0]!.basicAuth, 'client_secret_basic, as the OP lists it');

  // Signed in: the next navigation goes straight through.
  browser.cookies(bed.base).set('theme', 'dark');
  const again = await browser.send(`${bed.base}/other`);
  t.equal(again.status, 200);
  t.equal(bed.upstream.received.at(-1)!.headers['x-user-email'], TEST_USER.email);
  t.equal(bed.upstream.received.at(-1)!.headers['cookie'], 'theme=dark', 'the session cookie never reaches the upstream; others pass');
});

void t.test('API requests without a session get 401, not a redirect', async (t) => {
  const c = new CookieClient();
  const json = await c.send(`${bed.base}/orders`, { headers: { accept: 'application/json', 'sec-fetch-mode': 'cors' } });
  t.equal(json.status, 401);
  t.match(String(json.headers['www-authenticate']), /^Bearer realm="portcullis"/);
  const xhr = await c.send(`${bed.base}/orders`, { headers: { 'x-requested-with': 'XMLHttpRequest' } });
  t.equal(xhr.status, 401);
  const post = await c.send(`${bed.base}/orders`, { method: 'POST', body: '' });
  t.equal(post.status, 401, 'a POST is never redirected');
  const bearer = await c.send(`${bed.base}/orders`, { headers: { authorization: 'Bearer not.a.token' } });
  t.equal(bearer.status, 401, 'a bearer token decides on its own');
  t.match(String(bearer.headers['www-authenticate']), /invalid_token/);
});

void t.test('a forged or foreign session cookie is no session', async (t) => {
  const c = new CookieClient();
  c.cookies(bed.base).set('portcullis_session', 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoieCJ9..aaaa.bbbb.cccc');
  const res = await c.send(`${bed.base}/x`);
  t.equal(res.status, 302);
  t.ok(res.setCookies.some((s) => /^portcullis_session=;.*Max-Age=0/.test(s)), 'the bad cookie is cleared');
});
