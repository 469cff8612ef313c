/**
 * `/traefik` and `/envoy/…` answered directly, as Traefik's ForwardAuth and Envoy's ext_authz
 * HTTP service receive them: real statuses (no X-Auth-Status mapping), Envoy's exact 200, its
 * path prefix, x-envoy-auth-headers-to-remove, and the trust rules.
 */
import t from 'tap';
import { rawRequest } from '../helpers/raw-http.js';
import { accessLine, ask, endpointDoc, startAuthGateway, token, type AuthGateway, type Doc } from './fixture.js';

const ROUTES = [
  { name: 'private', match: { path: '/private' }, forwardAuthorization: false, upstream: 'http://127.0.0.1:1' },
  { name: 'hosted', match: { hosts: ['app.example.com'], path: '/hosted' }, auth: 'none', upstream: 'http://127.0.0.1:1' },
  { name: 'office', match: { path: '/office' }, auth: 'none', allowCidrs: ['203.0.113.0/24'], upstream: 'http://127.0.0.1:1' },
];
const doc = (trusted: boolean): Promise<Doc> => endpointDoc(trusted, ROUTES);

let trusted: AuthGateway;
let untrusted: AuthGateway;
t.before(async () => {
  trusted = await startAuthGateway(await doc(true));
  untrusted = await startAuthGateway(await doc(false));
});
t.teardown(async () => { await trusted?.close(); await untrusted?.close(); });

const traefik = (gw: AuthGateway, uri: string, extra: Record<string, string> = {}, method = 'GET') =>
  ask(gw.url + '/traefik', { 'x-forwarded-uri': uri, 'x-forwarded-method': method, ...extra });
const body = (id: unknown, error: string) => JSON.stringify({ error, requestId: id });

void t.test('traefik: allow 200 with identity headers; denials keep their real status', async (t) => {
  const auth = { authorization: `Bearer ${await token('alice')}` };
  const ok = await traefik(trusted, '/api/x', auth);
  t.equal(ok.status, 200);
  t.equal(ok.body, '');
  t.equal(ok.headers['x-user-id'], 'alice');
  t.equal(ok.headers['x-auth-status'], undefined, 'X-Auth-Status is for NGINX only');
  // Traefik copies an allow's headers only onto the request to the backend: no RateLimit fields.
  t.equal(ok.headers['ratelimit'], undefined);
  t.equal(ok.headers['ratelimit-policy'], undefined);
  const limited = await traefik(trusted, '/api/x', auth);
  t.equal(limited.status, 429);
  t.equal(limited.headers['retry-after'], '1000');
  t.equal(limited.headers['ratelimit'], '"per-user";r=0;t=1000', 'a denial reaches the client as it is: the fields go along');
  t.equal(limited.body, body(limited.headers['x-request-id'], 'rate_limited'));
  const anon = await traefik(trusted, '/api/x');
  t.equal(anon.status, 401);
  t.equal(anon.headers['www-authenticate'], 'Bearer realm="portcullis"');
  t.equal((await traefik(trusted, '/nowhere')).status, 404);
  t.equal((await traefik(trusted, '/public/x', {}, 'DELETE')).status, 404, 'the original method routes');
  t.equal((await traefik(trusted, '/public/x', {}, 'POST')).status, 200);
});

void t.test('traefik: missing X-Forwarded-Method / -Uri or a bad URI → plain 400', async (t) => {
  const cases: Record<string, string>[] = [
    { 'x-forwarded-uri': '/public' }, { 'x-forwarded-method': 'GET' }, { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/../x' },
    { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/public', 'x-forwarded-host': 'evil.example/x' },
  ];
  for (const headers of cases) {
    const r = await ask(trusted.url + '/traefik', headers);
    t.equal(r.status, 400, JSON.stringify(headers));
    t.equal(r.body, body(r.headers['x-request-id'], 'bad_request'));
  }
});

void t.test('traefik: X-Forwarded-Host and -For only from a trusted Traefik', async (t) => {
  const host = { 'x-forwarded-host': 'app.example.com' };
  t.equal((await traefik(trusted, '/hosted', host)).status, 200);
  t.equal((await traefik(untrusted, '/hosted', host)).status, 404, 'untrusted: its own Host, 127.0.0.1');
  t.equal((await traefik(trusted, '/office', { 'x-forwarded-for': '203.0.113.1' })).status, 200);
  t.equal((await traefik(untrusted, '/office', { 'x-forwarded-for': '203.0.113.1' })).status, 403);
});

void t.test('envoy: exactly 200 on allow; the original method and the path after /envoy', async (t) => {
  const ok = await ask(trusted.url + '/envoy/api/orders?x=1', { authorization: `Bearer ${await token('bob')}` });
  t.equal(ok.status, 200);
  t.equal(ok.body, '');
  t.equal(ok.headers['x-user-id'], 'bob');
  t.equal(ok.headers['x-envoy-auth-headers-to-remove'], undefined, 'nothing spoofed, nothing to remove');
  t.match(await accessLine(trusted.gw, ok.headers['x-request-id']), { method: 'GET', path: '/api/orders', route: 'api', status: 200, decision: 'allow', sub: 'bob' });
  t.equal((await ask(trusted.url + '/envoy/public/x', {}, 'POST')).status, 200);
  t.equal((await ask(trusted.url + '/envoy/public/x', {}, 'DELETE')).status, 404);
  t.equal((await ask(trusted.url + '/envoy/public/x', {}, 'HEAD')).status, 200, 'GET routes answer HEAD');
});

void t.test('envoy: the prefix is cut before normalising; other paths are not endpoints', async (t) => {
  // A raw request: a URL parser would resolve the dots before sending.
  const dots = await rawRequest(trusted.port, 'GET /envoy/../api/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  t.equal(dots.status, 400, '/envoy/../api is /../api: above the root');
  const inner = await rawRequest(trusted.port, 'GET /envoy/public/../api/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  t.equal(inner.status, 401, '/envoy/public/../api is /api: a token is needed');
  t.equal((await ask(trusted.url + '/envoy/public/..%2fapi', {})).status, 400);
  t.equal((await ask(trusted.url + '/envoy//api/x', {})).status, 401, '//api is /api');
  // The original :authority is the check request's Host: one routing could read two ways is a 400.
  const host = await rawRequest(trusted.port, 'GET /envoy/public/x HTTP/1.1\r\nHost: u@app.example.com\r\nConnection: close\r\n\r\n');
  t.equal(host.status, 400, 'a bad original host');
  for (const path of ['/envoy', '/envoyx/public', '/nginxx', '/traefik/x', '/', '/public']) {
    const r = await ask(trusted.url + path, {});
    t.equal(r.status, 404, path);
    t.equal(r.body, body(r.headers['x-request-id'], 'not_found'));
  }
});

void t.test('envoy: spoofed identity headers are named in x-envoy-auth-headers-to-remove', async (t) => {
  const r = await ask(trusted.url + '/envoy/public/x', {
    'x-user-id': 'mallory', 'x_user_email': 'm@example.com', 'x.user.roles': 'admin', 'x-auth-request-user': 'm', 'x-other': 'kept',
    // server.stripIdentityHeaders (issue 22 §9): other auth proxies' names, on an auth: none route too.
    'x-forwarded-user': 'm', 'remote-user': 'm', 'x-forwarded-for': '127.0.0.1',
  });
  t.equal(r.status, 200);
  t.equal(r.headers['x-envoy-auth-headers-to-remove'], 'x-user-id, x_user_email, x.user.roles, x-auth-request-user, x-forwarded-user, remote-user');
  t.equal(r.headers['x-user-id'], undefined, 'anonymous route: no identity to send');
  const denied = await ask(trusted.url + '/envoy/api/x', { 'x-user-id': 'mallory' });
  t.equal(denied.status, 401);
  t.equal(denied.headers['x-envoy-auth-headers-to-remove'], undefined, 'only an allow says what to remove');
});

void t.test('envoy: forwardAuthorization: false names the credential headers for removal too', async (t) => {
  const auth = { authorization: `Bearer ${await token('dan')}` };
  const r = await ask(trusted.url + '/envoy/private/x', { ...auth, 'x-user-id': 'mallory' });
  t.equal(r.status, 200);
  t.equal(r.headers['x-envoy-auth-headers-to-remove'], 'x-user-id, authorization, dpop', 'the DPoP proof goes with the token');
  const twin = await ask(trusted.url + '/envoy/api/x', { authorization: `Bearer ${await token('dan2')}` });
  t.equal(twin.headers['x-envoy-auth-headers-to-remove'], undefined, 'forwardAuthorization: true (the default) keeps it');
});

void t.test('envoy: limits, and the client address from x-forwarded-for or x-envoy-external-address', async (t) => {
  const auth = { authorization: `Bearer ${await token('carol')}` };
  const ok = await ask(trusted.url + '/envoy/api/x', auth);
  t.equal(ok.status, 200);
  t.equal(ok.headers['ratelimit'], '"per-user";r=0;t=1000', 'allowed_client_headers_on_success hands them to the client');
  t.equal(ok.headers['ratelimit-policy'], '"per-user";q=1;w=1000');
  const limited = await ask(trusted.url + '/envoy/api/x', auth);
  t.equal(limited.status, 429, 'Envoy passes a denial\'s status to the client as it is');
  t.equal(limited.headers['retry-after'], '1000');
  t.equal((await ask(trusted.url + '/envoy/office', { 'x-envoy-external-address': '203.0.113.5' })).status, 200);
  t.equal((await ask(trusted.url + '/envoy/office', { 'x-forwarded-for': '203.0.113.6' })).status, 200);
  t.equal((await ask(untrusted.url + '/envoy/office', { 'x-envoy-external-address': '203.0.113.5' })).status, 403);
  t.equal((await ask(trusted.url + '/envoy/office', { 'x-envoy-external-address': 'not-an-ip' })).status, 403);
});
