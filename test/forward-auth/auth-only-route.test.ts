/**
 * A route without `upstream` (docs/forward-auth.md, "Routes without an upstream"): the auth
 * listener decides it like any route; the edge listener of the same process answers it 404
 * before any stage runs — no 401 that would tell a client it exists, no bucket spent — and does
 * not fall through to a later route that would match.
 */
import t from 'tap';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/validate.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { rawRequest } from '../helpers/raw-http.js';
import { accessLine, ask, shippedDoc, token } from './fixture.js';

let up: RecordingUpstream;
let gw: TestGateway;
let authUrl: string;

t.before(async () => {
  up = await startUpstream();
  const doc = await shippedDoc();
  doc.rateLimits.policies['per-user'] = { key: 'sub', capacity: 2, refillPerSecond: 0.001 };
  doc.routes = [
    { name: 'sso', match: { path: '/sso' }, identityHeaders: { 'X-User-Id': 'sub' }, rateLimit: 'per-user' },
    { name: 'everything', match: {}, auth: 'none', upstream: up.url },
  ];
  gw = await startGateway({ ...doc, listeners: { http: { host: '127.0.0.1', port: 0 }, auth: { host: '127.0.0.1', port: 0 } } });
  const auth = gw.runtime.listeners.find((l) => l.name === 'auth')!;
  authUrl = `http://127.0.0.1:${(auth.server.address() as AddressInfo).port}`;
});
t.teardown(async () => {
  await gw?.close();
  await up?.close();
});

const edge = async (path: string, headers: Record<string, string> = {}) => {
  const res = await request(gw.url + path, { headers });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
};

void t.test('the edge answers 404 for it, before any stage, and never forwards it', async (t) => {
  const before = up.received.length;
  const anonymous = await edge('/sso/login');
  t.equal(anonymous.status, 404, 'not 401: the edge has no such route');
  t.equal(anonymous.headers['www-authenticate'], undefined);
  t.equal(anonymous.body, JSON.stringify({ error: 'not_found', requestId: anonymous.headers['x-request-id'] }));
  const withToken = await edge('/sso/login', { authorization: `Bearer ${await token('alice')}` });
  t.equal(withToken.status, 404);
  t.equal(withToken.headers['ratelimit'], undefined, 'the rate-limit stage did not run');
  t.equal(up.received.length, before, 'nothing reached the catch-all route\'s upstream');
  t.match(await accessLine(gw, withToken.headers['x-request-id']), { route: 'sso', status: 404, decision: 'no_route', sub: null });
  // A WebSocket upgrade gets the same 404, not the websocket route check's 403.
  const upgrade = await rawRequest(
    Number(new URL(gw.url).port),
    'GET /sso/socket HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  t.equal(upgrade.status, 404, 'upgrade to a forward-auth-only route');
  t.match(upgrade.text, /"error":"not_found"/);
  t.equal(up.received.length, before, 'the upgrade reached no upstream');
  // The twin: the catch-all after it still serves the edge.
  t.equal((await edge('/elsewhere')).status, 200);
  t.equal(up.received.length, before + 1);
});

void t.test('the auth listener decides it like any route: stages, identity headers, limits', async (t) => {
  const auth = { authorization: `Bearer ${await token('alice')}` };
  // alice's edge request above spent nothing: this is her first token of two.
  const ok = await ask(authUrl + '/envoy/sso/login', auth);
  t.equal(ok.status, 200);
  t.equal(ok.headers['x-user-id'], 'alice');
  t.equal(ok.headers['ratelimit'], '"per-user";r=1;t=1000');
  t.equal((await ask(authUrl + '/traefik', { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/sso/login', ...auth })).status, 200);
  t.equal((await ask(authUrl + '/envoy/sso/login', auth)).status, 429);
  t.equal((await ask(authUrl + '/envoy/sso/login', {})).status, 401);
});

void t.test('config: upstream may be left out, except by a websocket route; check says so', async (t) => {
  const listeners = { auth: { host: '127.0.0.1', port: 0 } };
  const cfg = validateConfig({ listeners, routes: [{ name: 'sso', match: { path: '/sso' } }] });
  t.equal(cfg.routes[0]!.upstream, undefined);
  try {
    validateConfig({ listeners, routes: [{ name: 'ws', match: { path: '/ws' }, auth: 'none', websocket: true }] });
    t.fail('a websocket route without an upstream was accepted');
  } catch (err) {
    t.ok(err instanceof ConfigError);
    t.same((err as ConfigError).problems, ['routes[0].websocket: needs an upstream (a route without one serves the forward-auth shape only)']);
  }
  const sso = gw.runtime.current.routes.routes.find((r) => r.name === 'sso')!;
  t.equal(sso.forwards, false);
  t.match(sso.describe(), /; no upstream \(forward-auth only\)$/);
});
