/**
 * Sign-in in the forward-auth shape. With a real NGINX running the shipped
 * config/nginx/sign-in.conf, a real OP and Portcullis's auth listener: a browser opening a page
 * is sent through `error_page 401 = @signin` to sign in, the sign-in endpoints are proxied by
 * NGINX on the application's host, and the backend sees X-User-Email. And the endpoints' own
 * forms: /nginx answers 401 (+ X-Auth-Redirect for a browser), /traefik the 302 itself.
 */
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { CookieClient } from '../helpers/cookie-client.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { findNginx, startNginx, type TestNginx } from '../helpers/nginx.js';
import { freePort } from '../helpers/ports.js';
import { startOp, TEST_USER, type TestOp } from '../helpers/op.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { ready, SECRET_A } from './fixture.js';

const SIGN_IN_CONF = fileURLToPath(new URL('../../config/nginx/sign-in.conf', import.meta.url));

let op: TestOp;
let gateway: TestGateway;
let backend: RecordingUpstream;
let nginx: TestNginx | null = null;
let app: string;
let authPort: number;
/** A signed-in session from the NGINX test, for the /traefik allow. */
let sessionCookie = '';

t.before(async () => {
  const nginxPort = await freePort();
  authPort = await freePort();
  app = `http://127.0.0.1:${nginxPort}`;
  // 30 s access tokens, refreshed 60 s before expiry: every check rewrites the session cookie.
  op = await startOp({ redirectUris: [`${app}/.portcullis/callback`], accessTokenTtlSec: 30 });
  backend = await startUpstream();
  gateway = await startGateway({
    server: { trustedProxies: ['127.0.0.1/32'] },
    listeners: { auth: { host: '127.0.0.1', port: authPort }, admin: { host: '127.0.0.1', port: 0 } },
    auth: {
      providers: [{
        name: 'op', issuer: op.issuer, discovery: true, algorithms: ['RS256'],
        client: { id: op.clientId, secret: op.clientSecret, redirectUri: `${app}/.portcullis/callback`, scopes: ['openid', 'email', 'offline_access'] },
      }],
    },
    sessions: { secrets: [SECRET_A] },
    routes: [{ name: 'app', match: { path: '/' }, auth: { login: 'op' }, identityHeaders: { 'X-User-Email': 'email', 'X-User-Id': 'sub' } }],
  });
  await ready(gateway);
  if (findNginx() !== null) nginx = await startNginx({ auth: authPort, backend: backend.port, listen: nginxPort }, undefined, SIGN_IN_CONF);
});
t.teardown(async () => {
  await nginx?.close();
  await gateway.close();
  await backend.close();
  await op.close();
});

void t.test('NGINX auth_request + error_page 401 = @signin: sign in, then the backend sees the user', { skip: findNginx() === null ? 'nginx is not installed (.ci/run installs it)' : false }, async (t) => {
  const c = new CookieClient();
  const hops = await c.follow(`${app}/dashboard?x=1`);
  t.equal(hops[0]!.status, 302, 'NGINX redirects the browser');
  t.equal(hops[0]!.location, `${app}/.portcullis/sign-in?rd=${encodeURIComponent('/dashboard?x=1')}`);
  t.ok(hops.some((h) => h.url.startsWith(op.issuer)), 'through the provider');
  t.ok(hops.some((h) => h.url.startsWith(`${app}/.portcullis/callback`)), 'back through NGINX to the callback');
  const last = hops.at(-1)!;
  t.equal(last.status, 200);
  t.equal(last.url, `${app}/dashboard?x=1`);
  const seen = backend.received.at(-1)!;
  t.equal(seen.headers['x-user-email'], TEST_USER.email);
  t.equal(seen.headers['x-user-id'], TEST_USER.sub);
  for (let i = 0; i < 3; i++) {
    const next = await c.send(`${app}/dashboard`);
    t.equal(next.status, 200, `request ${i + 1} after sign-in`);
    t.ok(next.setCookies.some((s) => s.startsWith('portcullis_session=') && !s.includes('Max-Age=0')), 'the refreshed session reaches the browser (add_header Set-Cookie)');
  }
  t.ok(op.tokenRequests.filter((r) => r.grantType === 'refresh_token' && r.status === 200).length >= 3, 'each one refreshed with the rotated refresh token');
  sessionCookie = c.cookies(app).get('portcullis_session')!;

  const api = await c.send(`${app}/dashboard`, { headers: { accept: 'application/json', 'sec-fetch-mode': 'cors', cookie: '' } });
  t.equal(api.status, 401, 'an API request without a session: 401, no redirect');
  t.equal(api.headers['location'], undefined);
  const spoof = await new CookieClient().send(`${app}/dashboard`, { headers: { 'x-user-email': 'mallory@example.test' } });
  t.equal(spoof.status, 302, 'a spoofed identity header is no session');
});

void t.test('/nginx: 401 with X-Auth-Redirect for a browser, a bare 401 for an API request', async (t) => {
  const c = new CookieClient();
  const base = { 'x-original-method': 'GET', 'x-original-uri': '/reports?q=1', 'x-forwarded-host': 'app.example.com', 'x-forwarded-proto': 'https' };
  const browser = await c.send(`http://127.0.0.1:${authPort}/nginx`, { headers: base });
  t.equal(browser.status, 401);
  t.equal(browser.headers['x-auth-redirect'], `/.portcullis/sign-in?rd=${encodeURIComponent('/reports?q=1')}`);
  t.equal(browser.headers['x-auth-status'], '401');
  const api = await c.send(`http://127.0.0.1:${authPort}/nginx`, { headers: { ...base, accept: 'application/json', 'sec-fetch-mode': 'cors' } });
  t.equal(api.status, 401);
  t.equal(api.headers['x-auth-redirect'], undefined);
  t.match(String(api.headers['www-authenticate']), /^Bearer/);
});

void t.test('/traefik: a browser gets the redirect itself (ForwardAuth returns it as it is)', async (t) => {
  const c = new CookieClient();
  const base = { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/reports', 'x-forwarded-host': 'app.example.com', 'x-forwarded-proto': 'https' };
  const browser = await c.send(`http://127.0.0.1:${authPort}/traefik`, { headers: base });
  t.equal(browser.status, 302);
  t.equal(browser.headers['location'], `/.portcullis/sign-in?rd=${encodeURIComponent('/reports')}`);
  const api = await c.send(`http://127.0.0.1:${authPort}/traefik`, { headers: { ...base, 'x-requested-with': 'XMLHttpRequest' } });
  t.equal(api.status, 401);
  if (sessionCookie !== '') {
    const allow = await c.send(`http://127.0.0.1:${authPort}/traefik`, { headers: { ...base, 'x-forwarded-host': '127.0.0.1', 'x-forwarded-proto': 'http', cookie: `portcullis_session=${sessionCookie}` } });
    t.equal(allow.status, 200, 'a session allows');
    t.equal(allow.headers['x-user-email'], TEST_USER.email);
    t.ok(allow.setCookies.some((s) => s.startsWith('portcullis_session=')), 'the rewritten session cookie is kept for addAuthCookiesToResponse');
  }
});
