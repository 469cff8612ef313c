/**
 * Real HAProxy running the shipped config/haproxy/haproxy.cfg and portcullis-auth.lua (addresses
 * substituted) in front of a recording backend, asking Portcullis (the shipped
 * config/haproxy/portcullis.yaml, in process) about every request on `/haproxy`. What the HAProxy
 * client and the backend see is asserted.
 */
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { parseConfigText } from '../../src/config/load.js';
import { DEFAULT_STRIP_IDENTITY_HEADERS } from '../../src/config/schema.js';
import { HAPROXY_READ_HEADERS } from '../../src/forward-auth/haproxy.js';
import { findHaproxy, REPO_ROOT, SHIPPED_HAPROXY_CFG, startHaproxy, type TestHaproxy } from '../helpers/haproxy.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { accessLine, ask, startAuthGateway, token, type AuthGateway, type Doc } from './fixture.js';
import {
  missingScopeIsForbidden, noTokenIsChallenged, overTheRateLimit, smallUserBucket, spoofedIdentityReplaced, validTokenReachesBackend, type ThroughProxy,
} from './through-proxy.js';

const SHIPPED_YAML = `${REPO_ROOT}/config/haproxy/portcullis.yaml`;

async function shippedHaproxyDoc(): Promise<Doc> {
  const cfg = parseConfigText(await readFile(SHIPPED_YAML, 'utf8'), SHIPPED_YAML, {});
  return JSON.parse(JSON.stringify(cfg)) as Doc;
}

if (findHaproxy() === null) {
  // CI installs haproxy (.ci/run), so there this can only be a broken install step.
  if (process.env['CI']) t.fail('haproxy is not installed');
  else void t.test('real haproxy', { skip: 'haproxy is not installed (apt-get install haproxy)' }, () => {});
} else {
  let backend: RecordingUpstream;
  let pc: AuthGateway;
  let hap: TestHaproxy;
  t.before(async () => {
    backend = await startUpstream();
    const doc = await shippedHaproxyDoc();
    smallUserBucket(doc);
    pc = await startAuthGateway(doc);
    hap = await startHaproxy({ auth: pc.port, backend: backend.port });
  });
  t.teardown(async () => {
    await hap?.close();
    await pc?.close();
    await backend?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => ask(hap.url + path, headers);
  const through: ThroughProxy = { get, get backend() { return backend; } };
  const json = (body: string) => JSON.parse(body) as Record<string, unknown>;
  const raw = (path: string, extra: string[] = []) =>
    rawRequest(hap.port, [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...extra, 'Connection: close', '', ''].join('\r\n'));

  void t.test('valid token: the backend answers and sees the identity headers; the client gets the RateLimit fields', async (t) => {
    const { res, seen } = await validTokenReachesBackend(t, through);
    t.equal(seen.headers['x-original-uri'], undefined, 'the question is not passed on');
    t.equal(seen.headers['x-request-id'], res.headers['x-request-id'], 'one request id from HAProxy through Portcullis to the backend');
    t.equal(res.headers['ratelimit-policy'], '"per-user";q=2;w=2000');
    t.equal(res.headers['ratelimit'], '"per-user";r=1;t=1000');
    t.match(await accessLine(pc.gw, res.headers['x-request-id']), { route: 'api', decision: 'allow', status: 200, sub: 'alice', path: '/api/orders' });
  });

  void t.test('spoofed identity headers from the client never reach the backend', async (t) => {
    const tok = await token('erin');
    const res = await raw('/api/me', [
      `Authorization: Bearer ${tok}`, 'X-User-Id: mallory', 'x-user-id: mallory2', 'X-User-Email: mallory@example.com',
      'X-User-Roles: admin', 'X_User_Id: mallory3', 'x.user.id: mallory4', 'X-Auth-Request-User: mallory5',
      'X-Forwarded-User: mallory6', 'Remote-User: mallory7', 'X-WEBAUTH-USER: mallory8',
    ]);
    const seen = spoofedIdentityReplaced(t, through, res);
    t.notOk(JSON.stringify(seen.rawHeaders).includes('mallory'), 'no alias spelling, no other proxy\'s name');
    // A name only Portcullis's list covers (the cfg deletes none of this spelling): the Lua action removes it.
    const alias = await raw('/api/me', [`Authorization: Bearer ${tok}`, 'Remote_User: mallory9']);
    t.equal(alias.status, 200);
    t.equal(backend.received.at(-1)!.headers['remote_user'], undefined, 'X-Portcullis-Remove-Headers named it');
  });

  void t.test('a client\'s own X-Original-*, X-Forwarded-* and X-Real-IP do not change the question', async (t) => {
    const res = await get('/admin/x', {
      'x-original-uri': '/public/x', 'x-original-method': 'GET', 'x-original-url': 'http://127.0.0.1/public/x',
      'x-forwarded-for': '10.9.9.9', 'x-real-ip': '10.9.9.9', 'x-forwarded-host': 'status.example.com',
    });
    t.equal(res.status, 401, 'decided as /admin/x, which wants a token');
    t.match(res.headers['www-authenticate'], /^Bearer realm="portcullis"/);
    const line = await accessLine(pc.gw, res.headers['x-request-id']);
    t.match(line, { route: 'admin', path: '/admin/x', host: '127.0.0.1', clientIp: '127.0.0.1', decision: 'unauthenticated' });
  });

  void t.test('no token: 401 with the Bearer challenge, the backend is not asked', (t) => noTokenIsChallenged(t, through));

  void t.test('missing scope: 403 with insufficient_scope; with the scope: 200', (t) =>
    missingScopeIsForbidden(t, through, 'insufficient_scope', 'the real body, not NGINX\'s mapped one'));

  void t.test('over the rate limit: the client gets 429 with Retry-After', async (t) => { await overTheRateLimit(t, through); });

  void t.test('unknown path: 404 (deny by default)', async (t) => {
    const res = await get('/nowhere');
    t.equal(res.status, 404);
    t.same(json(res.body), { error: 'not_found', requestId: res.headers['x-request-id'] });
  });

  void t.test('path-normalisation tricks through HAProxy do not pass', async (t) => {
    const before = backend.received.length;
    t.equal((await raw('/public/..%2fadmin')).status, 400, 'encoded slash: refused');
    t.equal((await raw('/public/%2e%2e/admin')).status, 401, 'encoded dots: read as /admin');
    t.equal((await raw('/public/%2E%2E/admin')).status, 401, 'upper-case encoded dots: read as /admin');
    t.equal((await raw('/public/../admin')).status, 401, 'dots: read as /admin');
    t.equal((await raw('//admin')).status, 401, 'double slash: read as /admin');
    t.equal((await raw('/public/..;/admin')).status, 400, 'Tomcat-style ..;');
    t.equal((await raw('/../admin')).status, 400, 'above the root');
    t.equal((await raw('/ADMIN')).status, 404, 'matching is case-sensitive, no route');
    t.equal((await raw('/public%2fx')).status, 400);
    t.equal(backend.received.length, before, 'none reached the backend');
    // The reverse trick: allowed as /public, and the backend gets /public, not /admin/../public.
    const res = await raw('/admin/../public/x?q=1');
    t.equal(res.status, 200);
    t.equal(backend.received.at(-1)!.url, '/public/x?q=1');
    const res2 = await raw('//public/./x');
    t.equal(res2.status, 200);
    t.equal(backend.received.at(-1)!.url, '/public/x');
  });

  void t.test('Portcullis unreachable: the client gets 503 + Retry-After, never the backend', async (t) => {
    const before = backend.received.length;
    await pc.close();
    const res = await get('/public/x');
    t.equal(res.status, 503, res.body);
    t.equal(res.headers['retry-after'], '5');
    t.equal(backend.received.length, before);
  });
}

void t.test('the shipped haproxy.cfg sets every header /haproxy reads, and names the routes\' identity headers', async (t) => {
  const cfg = await readFile(SHIPPED_HAPROXY_CFG, 'utf8');
  for (const name of HAPROXY_READ_HEADERS) {
    t.match(cfg, new RegExp(`http-request (set|del)-header ${name}\\s`, 'i'), `${name} is set or cleared by the cfg`);
  }
  for (const name of DEFAULT_STRIP_IDENTITY_HEADERS) {
    t.match(cfg, new RegExp(`^\\s*http-request del-header ${name}\\s*$`, 'mi'), `${name} (server.stripIdentityHeaders default) is deleted`);
  }
  const line = /lua\.portcullis-auth \S+ (\S+)/.exec(cfg);
  t.ok(line, 'the action line');
  const listed = new Set(line![1]!.toLowerCase().split(','));
  const doc = await shippedHaproxyDoc();
  for (const r of doc.routes) {
    for (const name of Object.keys((r['identityHeaders'] ?? {}) as Record<string, string>)) t.ok(listed.has(name.toLowerCase()), `${name} is copied by the action`);
  }
});
