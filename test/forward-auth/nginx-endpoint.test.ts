/**
 * `/nginx` answered directly, as NGINX receives it: exact statuses and headers, the 403 +
 * X-Auth-Status mapping of every denial NGINX cannot pass on, missing or bad headers, and what a
 * trusted caller is believed that an untrusted one is not.
 */
import t from 'tap';
import { accessLine, ask, endpointDoc, startAuthGateway, token, type AuthGateway, type Doc } from './fixture.js';

/** The shipped routes plus a host-bound route and an address-bound one. */
const ROUTES = [
  { name: 'hosted', match: { hosts: ['app.example.com'], path: '/hosted' }, auth: 'none', upstream: 'http://127.0.0.1:1' },
  { name: 'office', match: { path: '/office' }, auth: 'none', allowCidrs: ['203.0.113.0/24'], upstream: 'http://127.0.0.1:1' },
];
const doc = (trusted: boolean): Promise<Doc> => endpointDoc(trusted, ROUTES);

let trusted: AuthGateway;
let untrusted: AuthGateway;
/** As for ingress-nginx: listeners.auth.trustOriginalUrl, X-Original-URL's host believed from a trusted caller. */
let ingress: AuthGateway;
let ingressUntrusted: AuthGateway;
t.before(async () => {
  trusted = await startAuthGateway(await doc(true));
  untrusted = await startAuthGateway(await doc(false));
  ingress = await startAuthGateway(await doc(true), { trustOriginalUrl: true });
  ingressUntrusted = await startAuthGateway(await doc(false), { trustOriginalUrl: true });
});
t.teardown(async () => {
  for (const gw of [trusted, untrusted, ingress, ingressUntrusted]) await gw?.close();
});

const nginx = (gw: AuthGateway, uri: string | null, extra: Record<string, string> = {}) =>
  ask(gw.url + '/nginx', { ...(uri === null ? {} : { 'x-original-uri': uri, 'x-original-method': 'GET' }), ...extra });
const body = (id: unknown, error: string) => JSON.stringify({ error, requestId: id });

void t.test('allow: exactly 200, empty body, identity headers, RateLimit fields, X-Auth-Status 200, no-store', async (t) => {
  const tok = await token('alice', { claims: ['email=alice@example.com'] });
  const r = await nginx(trusted, '/api/x?y=1', { authorization: `Bearer ${tok}` });
  t.equal(r.status, 200);
  t.equal(r.body, '');
  t.equal(r.headers['content-length'], '0');
  t.equal(r.headers['content-type'], undefined);
  t.equal(r.headers['x-auth-status'], '200');
  t.equal(r.headers['x-user-id'], 'alice');
  t.equal(r.headers['x-user-email'], 'alice@example.com');
  t.equal(r.headers['x-user-roles'], undefined, 'no roles claim: no header');
  t.equal(r.headers['cache-control'], 'no-store');
  t.equal(r.headers['ratelimit-policy'], '"per-user";q=1;w=1000');
  t.equal(r.headers['ratelimit'], '"per-user";r=0;t=1000');
});

void t.test('401 and 403 go as they are, with X-Auth-Status naming the same status', async (t) => {
  const r401 = await nginx(trusted, '/api/x');
  t.equal(r401.status, 401);
  t.equal(r401.headers['x-auth-status'], '401');
  t.equal(r401.headers['www-authenticate'], 'Bearer realm="portcullis"');
  t.equal(r401.body, body(r401.headers['x-request-id'], 'unauthorized'));
  const r403 = await nginx(trusted, '/admin', { authorization: `Bearer ${await token('bob')}` });
  t.equal(r403.status, 403);
  t.equal(r403.headers['x-auth-status'], '403');
  t.match(r403.headers['www-authenticate'], /error="insufficient_scope"/);
  t.equal(r403.body, body(r403.headers['x-request-id'], 'insufficient_scope'));
});

void t.test('every other denial is 403 with the real status in X-Auth-Status', async (t) => {
  const auth = { authorization: `Bearer ${await token('carol')}` };
  t.equal((await nginx(trusted, '/api/x', auth)).status, 200);
  const r429 = await nginx(trusted, '/api/x', auth);
  t.equal(r429.status, 403);
  t.equal(r429.headers['x-auth-status'], '429');
  t.equal(r429.headers['retry-after'], '1000');
  t.equal(r429.headers['ratelimit'], '"per-user";r=0;t=1000');
  t.equal(r429.body, body(r429.headers['x-request-id'], 'rate_limited'));
  const r404 = await nginx(trusted, '/nowhere');
  t.equal(r404.status, 403);
  t.equal(r404.headers['x-auth-status'], '404');
  t.equal(r404.body, body(r404.headers['x-request-id'], 'not_found'));
  t.match(await accessLine(trusted.gw, r429.headers['x-request-id']), { route: 'api', status: 403, decision: 'rate_limited', sub: 'carol' });
  t.match(await accessLine(trusted.gw, r404.headers['x-request-id']), { route: null, status: 403, decision: 'no_route', path: '/nowhere' });
  const metrics = await trusted.gw.metrics.registry.metrics();
  t.match(metrics, /portcullis_requests_total\{route="api",method="GET",status="403",decision="rate_limited"\} 1\n/);
});

void t.test('missing or bad original method / URI: 400, sent as 403 + X-Auth-Status 400', async (t) => {
  const cases: [string, Record<string, string>][] = [
    ['no headers', {}],
    ['no method', { 'x-original-uri': '/public' }],
    ['no URI', { 'x-original-method': 'GET' }],
    ['lowercase method', { 'x-original-uri': '/public', 'x-original-method': 'get' }],
    ['unknown method', { 'x-original-uri': '/public', 'x-original-method': 'BREW' }],
    ['above the root', { 'x-original-uri': '/public/../../etc', 'x-original-method': 'GET' }],
    ['encoded slash', { 'x-original-uri': '/public%2f..%2fadmin', 'x-original-method': 'GET' }],
    ['relative', { 'x-original-uri': 'public', 'x-original-method': 'GET' }],
    ['bad X-Forwarded-Host', { 'x-original-uri': '/public', 'x-original-method': 'GET', 'x-forwarded-host': 'a b' }],
  ];
  for (const [name, headers] of cases) {
    const r = await ask(trusted.url + '/nginx', headers);
    t.equal(r.status, 403, name);
    t.equal(r.headers['x-auth-status'], '400', name);
    t.equal(r.body, body(r.headers['x-request-id'], 'bad_request'), name);
  }
  t.equal((await nginx(trusted, '/public/%2e%2e/public/x')).headers['x-auth-status'], '200', 'the twin: normalised, then allowed');
});

void t.test('X-Original-URL by default (trustOriginalUrl unset): believed alone, and beside X-Original-URI only when both agree', async (t) => {
  // issue 22 §1: through a plain NGINX that passes the client's header on, its host picked a host-bound anonymous route.
  const spoof = { 'x-original-uri': '/hosted/x', 'x-original-method': 'GET', 'x-original-url': 'http://app.example.com/hosted/x' };
  const r = await ask(trusted.url + '/nginx', spoof);
  t.equal(r.headers['x-auth-status'], '400', 'trusted caller: the URL names another host than X-Forwarded-Host / Host');
  t.equal(r.body, body(r.headers['x-request-id'], 'bad_request'));
  t.match(await accessLine(trusted.gw, r.headers['x-request-id']), { decision: 'bad_request', status: 403, host: '127.0.0.1' });
  t.equal((await ask(untrusted.url + '/nginx', spoof)).headers['x-auth-status'], '404', 'untrusted caller: its own Host, the URL host never read');
  t.equal((await ask(trusted.url + '/nginx', { ...spoof, 'x-original-url': '' })).headers['x-auth-status'], '400', 'empty: not a URL');
  const { 'x-original-url': _spoofed, ...asked } = spoof;
  t.equal((await ask(trusted.url + '/nginx', asked)).headers['x-auth-status'], '404', 'the twin: the host the caller states (127.0.0.1) has no such route');
  t.equal((await ask(trusted.url + '/nginx', { ...asked, 'x-forwarded-host': 'app.example.com' })).headers['x-auth-status'], '200');
  t.equal((await ask(trusted.url + '/nginx', { ...spoof, 'x-forwarded-host': 'app.example.com' })).headers['x-auth-status'], '200', 'both agreeing: fine');
  // ingress-nginx sends X-Original-URL alone: PRODUCT §5 works without any setting.
  const { 'x-original-uri': _uri, ...urlOnly } = spoof;
  t.equal((await ask(trusted.url + '/nginx', urlOnly)).headers['x-auth-status'], '200', 'X-Original-URL alone, as ingress-nginx sends it');
});

void t.test('trustOriginalUrl false (config/nginx/portcullis.yaml): a request carrying X-Original-URL is refused', async (t) => {
  const strict = await startAuthGateway(await doc(true), { trustOriginalUrl: false });
  t.teardown(() => strict.close());
  const spoof = { 'x-original-uri': '/hosted/x', 'x-original-method': 'GET', 'x-original-url': 'http://127.0.0.1/hosted/x' };
  t.equal((await ask(strict.url + '/nginx', spoof)).headers['x-auth-status'], '400', 'even when it agrees');
  t.equal((await ask(strict.url + '/nginx', { ...spoof, 'x-original-url': '' })).headers['x-auth-status'], '400', 'even empty');
});

void t.test('trustOriginalUrl (ingress-nginx): X-Original-URL is required; path and query, and its host for a trusted caller', async (t) => {
  const url = { 'x-original-url': 'https://app.example.com/hosted/x?a=1', 'x-original-method': 'GET' };
  t.equal((await ask(ingress.url + '/nginx', url)).headers['x-auth-status'], '200');
  // ingress-nginx sets no X-Forwarded-Host in its auth location: one here came from its client.
  t.equal((await ask(ingress.url + '/nginx', { ...url, 'x-forwarded-host': 'other.example.com' })).headers['x-auth-status'], '200', 'the URL\'s host wins');
  t.equal((await ask(ingressUntrusted.url + '/nginx', url)).headers['x-auth-status'], '404', 'untrusted: the caller\'s own Host');
  t.equal((await ask(ingressUntrusted.url + '/nginx', { ...url, host: 'app.example.com' })).headers['x-auth-status'], '200');
  // ingress-nginx sets X-Original-URI only with auth-method: one that disagrees with the URL is the client's.
  const spoofed = await ask(ingress.url + '/nginx', { ...url, 'x-original-uri': '/public' });
  t.equal(spoofed.headers['x-auth-status'], '400', 'an X-Original-URI that disagrees with X-Original-URL');
  const agreed = await ask(ingress.url + '/nginx', { ...url, 'x-original-uri': '/hosted/x?a=1' });
  t.equal(agreed.headers['x-auth-status'], '200', 'the twin: both say the same');
  const cases: [string, Record<string, string>][] = [
    ['no URL', { 'x-original-uri': '/hosted/x', 'x-original-method': 'GET', 'x-forwarded-host': 'app.example.com' }],
    ['URL with userinfo', { 'x-original-url': 'https://u:p@app.example.com/hosted', 'x-original-method': 'GET' }],
    ['URL not http(s)', { 'x-original-url': 'ftp://app.example.com/hosted', 'x-original-method': 'GET' }],
  ];
  for (const [name, headers] of cases) t.equal((await ask(ingress.url + '/nginx', headers)).headers['x-auth-status'], '400', name);
});

void t.test('client address: believed from a trusted caller only', async (t) => {
  const office = (gw: AuthGateway, extra: Record<string, string>) => nginx(gw, '/office', extra).then((r) => r.headers['x-auth-status']);
  t.equal(await office(trusted, { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' }), '200');
  t.equal(await office(trusted, { 'x-real-ip': '203.0.113.8' }), '200', 'X-Real-IP without X-Forwarded-For');
  t.equal(await office(trusted, { 'x-forwarded-for': '203.0.113.7, 198.51.100.1' }), '403', 'the rightmost untrusted hop is the client');
  t.equal(await office(trusted, { 'x-forwarded-for': 'garbage', 'x-real-ip': '203.0.113.8' }), '403', 'a bad chain: the caller itself');
  t.equal(await office(untrusted, { 'x-forwarded-for': '203.0.113.7' }), '403', 'untrusted: forged X-Forwarded-For ignored');
  t.equal(await office(untrusted, { 'x-real-ip': '203.0.113.8' }), '403', 'untrusted: forged X-Real-IP ignored');
  const id = 'ngx-req-42';
  const r = await nginx(trusted, '/office', { 'x-forwarded-for': '203.0.113.9', 'x-request-id': id });
  t.equal(r.headers['x-request-id'], id, 'a trusted caller\'s request id is kept');
  t.match(await accessLine(trusted.gw, id), { clientIp: '203.0.113.9', route: 'office', decision: 'allow', status: 200 });
  const u = await nginx(untrusted, '/office', { 'x-request-id': id });
  t.not(u.headers['x-request-id'], id, 'an untrusted caller\'s is replaced');
});
