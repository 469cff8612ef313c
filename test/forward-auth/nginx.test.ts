/**
 * Real NGINX running the shipped config/nginx/nginx.conf (addresses substituted) in front of a
 * recording backend, asking Portcullis (the shipped config/nginx/portcullis.yaml, in process)
 * about every request. What the NGINX client and the backend see is asserted, not what
 * Portcullis answered NGINX (endpoints.test.ts does that).
 */
import t from 'tap';
import { findNginx, startNginx, type TestNginx } from '../helpers/nginx.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { rawRequest } from '../helpers/raw-http.js';
import { accessLine, ask, shippedDoc, startAuthGateway, token, type AuthGateway } from './fixture.js';
import {
  missingScopeIsForbidden, noTokenIsChallenged, overTheRateLimit, smallUserBucket, spoofedIdentityReplaced, validTokenReachesBackend, type ThroughProxy,
} from './through-proxy.js';

if (findNginx() === null) {
  // CI installs nginx (.ci/run), so there this can only be a broken install step.
  if (process.env['CI']) t.fail('nginx is not installed');
  else t.plan(0, 'nginx is not installed (apt-get install nginx)');
} else {
  let backend: RecordingUpstream;
  let pc: AuthGateway;
  let ngx: TestNginx;
  t.before(async () => {
    backend = await startUpstream();
    const doc = await shippedDoc();
    smallUserBucket(doc);
    // An anonymous route bound to another host, first: only requests NGINX received for that host may take it.
    doc.routes.unshift({ name: 'status', match: { hosts: ['status.example.com'] }, auth: 'none' });
    pc = await startAuthGateway(doc);
    ngx = await startNginx({ auth: pc.port, backend: backend.port });
  });
  t.teardown(async () => {
    await ngx?.close();
    await pc?.close();
    await backend?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => ask(ngx.url + path, headers);
  const through: ThroughProxy = { get, get backend() { return backend; } };
  const json = (body: string) => JSON.parse(body) as Record<string, unknown>;

  void t.test('valid token: the backend answers and sees the identity headers and the request id', async (t) => {
    const { res, seen } = await validTokenReachesBackend(t, through);
    t.equal(seen.headers['x-request-id'], res.headers['x-request-id'], 'one request id from NGINX through Portcullis to the backend');
    t.equal(res.headers['ratelimit-policy'], '"per-user";q=2;w=2000');
    t.equal(res.headers['ratelimit'], '"per-user";r=1;t=1000');
  });

  void t.test('no token: 401 with the Bearer challenge, the backend is not asked', (t) => noTokenIsChallenged(t, through));

  void t.test('missing scope: 403 with insufficient_scope; with the scope: 200', (t) =>
    missingScopeIsForbidden(t, through, 'forbidden', 'NGINX\'s own body, its error named from the status (map $auth_error)'));

  void t.test('over the rate limit: the client gets 429 with Retry-After, not NGINX\'s 500', async (t) => {
    const res = await overTheRateLimit(t, through);
    t.equal(res.headers['www-authenticate'], undefined);
  });

  void t.test('unknown path: 404 (deny by default)', async (t) => {
    const res = await get('/nowhere');
    t.equal(res.status, 404);
    t.same(json(res.body), { error: 'not_found', requestId: res.headers['x-request-id'] });
    t.equal(res.headers['retry-after'], undefined);
  });

  void t.test('path-normalisation tricks through NGINX do not pass', async (t) => {
    const before = backend.received.length;
    const raw = (path: string, extra = '') => rawRequest(ngx.port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`);
    t.equal((await raw('/public/..%2fadmin')).status, 400, 'encoded slash: refused');
    t.equal((await raw('/public/%2e%2e/admin')).status, 401, 'encoded dots: read as /admin');
    t.equal((await raw('/public/../admin')).status, 401, 'dots: read as /admin');
    t.equal((await raw('//admin')).status, 401, 'double slash: read as /admin');
    t.equal((await raw('/public/..;/admin')).status, 400, 'Tomcat-style ..;');
    t.equal((await raw('/ADMIN')).status, 404, 'matching is case-sensitive, no route');
    t.equal((await raw('/public%2fx')).status, 400);
    t.equal(backend.received.length, before, 'none reached the backend');
    // The reverse trick: allowed as /public, and the backend gets /public, not /admin/../public.
    const res = await raw('/admin/../public/x?q=1');
    t.equal(res.status, 200);
    t.equal(backend.received.at(-1)!.url, '/public/x?q=1');
  });

  void t.test('a client\'s X-Original-URL cannot move its request onto another host\'s anonymous route (issue 22 §1)', async (t) => {
    // curl -H 'X-Original-URL: http://status.example.com/admin/secret' http://<nginx>/admin/secret
    const before = backend.received.length;
    const spoofed = await get('/admin/secret', { 'x-original-url': 'http://status.example.com/admin/secret' });
    t.equal(spoofed.status, 401, 'decided for the host NGINX received (127.0.0.1): the admin route wants a token');
    t.equal(spoofed.headers['www-authenticate'], 'Bearer realm="portcullis"');
    t.equal(backend.received.length, before, 'the backend is not asked');
    t.match(await accessLine(pc.gw, spoofed.headers['x-request-id']), { route: 'admin', host: '127.0.0.1', path: '/admin/secret', decision: 'unauthenticated' });
    // The twin: a request NGINX really received for that host takes the anonymous route.
    const asked = await get('/admin/secret', { host: 'status.example.com' });
    t.equal(asked.status, 200);
    t.equal(backend.received.length, before + 1);
    t.equal(backend.received.at(-1)!.url, '/admin/secret');
  });

  void t.test('spoofed identity headers from the client never reach the backend', async (t) => {
    const tok = await token('erin');
    const res = await rawRequest(ngx.port, [
      'GET /api/me HTTP/1.1', 'Host: 127.0.0.1', `Authorization: Bearer ${tok}`, 'X-User-Id: mallory', 'x-user-id: mallory2',
      'X-User-Email: mallory@example.com', 'X-User-Roles: admin', 'X_User_Id: mallory3', 'x.user.id: mallory4',
      'X-Auth-Request-User: mallory5', 'X-Forwarded-User: mallory6', 'Remote-User: mallory7', 'X-WEBAUTH-USER: mallory8', 'Connection: close', '', '',
    ].join('\r\n'));
    const seen = spoofedIdentityReplaced(t, through, res);
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    t.same(names.filter((n) => n.replace(/[_.]/g, '-').startsWith('x-user-')), ['x-user-id'], 'no alias spelling either');
    t.equal(seen.headers['x-auth-request-user'], undefined, 'oauth2-proxy\'s names are cleared too');
    t.notOk(JSON.stringify(seen.rawHeaders).includes('mallory'), 'and the server.stripIdentityHeaders names (issue 22 §9)');
  });

  void t.test('forward-auth decisions are logged like edge requests', async (t) => {
    const tok = await token('frank');
    const res = await get('/admin/x', { authorization: `Bearer ${tok}` });
    t.equal(res.status, 403);
    const id = res.headers['x-request-id'];
    const line = await accessLine(pc.gw, id);
    t.ok(line, 'the decision has an access-log line under NGINX\'s request id');
    t.match(line, { method: 'GET', path: '/admin/x', route: 'admin', status: 403, decision: 'forbidden', sub: 'frank', clientIp: '127.0.0.1', host: '127.0.0.1' });
  });
}
