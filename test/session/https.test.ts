/**
 * Sign-in over real TLS (generated certificates): the cookies are Secure and `__Host-` prefixed
 * when the request came over HTTPS, and the flow completes with them.
 */
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { CookieClient, NAVIGATE } from '../helpers/cookie-client.js';
import { h1Request, listenerPort, serverPki, tempDir } from '../helpers/certs.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startOp, TEST_USER, type TestOp } from '../helpers/op.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { ready, SECRET_A } from './fixture.js';

const CALLBACK = 'https://localhost/.portcullis/callback';
let op: TestOp;
let upstream: RecordingUpstream;
let gateway: TestGateway;
let port: number;
let ca: string;

t.before(async () => {
  const dir = await tempDir(t);
  const pki = await serverPki(dir);
  ca = pki.ca.cert;
  op = await startOp({ redirectUris: [CALLBACK] });
  upstream = await startUpstream();
  gateway = await startGateway({
    listeners: { https: { host: '127.0.0.1', port: 0, cert: pki.server.cert, key: pki.server.key }, admin: { host: '127.0.0.1', port: 0 } },
    auth: { providers: [{ name: 'op', issuer: op.issuer, discovery: true, algorithms: ['RS256'], client: { id: op.clientId, secret: op.clientSecret, redirectUri: CALLBACK } }] },
    sessions: { secrets: [SECRET_A] },
    routes: [{ name: 'app', match: {}, upstream: upstream.url, auth: { login: 'op' }, identityHeaders: { 'X-User-Email': 'email' } }],
  });
  port = listenerPort(gateway.runtime, 'https');
  await ready(gateway);
});
t.teardown(async () => {
  await gateway.close();
  await upstream.close();
  await op.close();
});

const cookiePair = (setCookie: string): string => setCookie.split(';')[0]!;

void t.test('__Host- prefixed, Secure cookies over HTTPS, through the whole flow', async (t) => {
  const caPem = await readFile(ca, 'utf8');
  const get = (path: string, cookie = '') => h1Request(port, path, { ca: caPem, headers: { ...NAVIGATE, ...(cookie === '' ? {} : { cookie }) } });
  const start = await get('/page');
  t.equal(start.status, 302);
  const signIn = await get(String(start.headers['location']));
  t.equal(signIn.status, 302);
  const flow = (signIn.headers['set-cookie'] ?? []) as string[];
  t.equal(flow.length, 1);
  t.match(flow[0], /^__Host-portcullis_session_f[A-Za-z0-9_-]{8}=[^;]+; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/);

  const c = new CookieClient();
  let next: string | null = String(signIn.headers['location']);
  for (let i = 0; i < 8 && next !== null && !next.startsWith(CALLBACK); i++) next = (await c.send(next)).location;
  t.ok(next?.startsWith(CALLBACK), 'the OP sends the browser back to the https callback');
  const u = new URL(next!);
  const callback = await get(u.pathname + u.search, cookiePair(flow[0]!));
  t.equal(callback.status, 302);
  t.equal(callback.headers['location'], '/page');
  const set = (callback.headers['set-cookie'] ?? []) as string[];
  const session = set.find((s) => s.startsWith('__Host-portcullis_session='));
  t.match(session, /; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax; Secure$/);
  t.notOk(session!.includes('Domain='), 'host-only');

  const page = await get('/page', cookiePair(session!));
  t.equal(page.status, 200);
  t.equal(upstream.received.at(-1)!.headers['x-user-email'], TEST_USER.email);
  const plainName = await get('/page', cookiePair(session!).replace('__Host-', ''));
  t.equal(plainName.status, 302, 'over HTTPS only the __Host- cookie counts');
});
