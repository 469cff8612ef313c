/**
 * The auth listener on a raw socket: what no proxy should send still gets a clear, logged answer —
 * an Upgrade is just a question, CONNECT is refused, a body is never read (the connection closes
 * so it cannot be parsed as a request), and a malformed request is the edge's 400.
 */
import t from 'tap';
import { rawRequest } from '../helpers/raw-http.js';
import { eventually } from '../helpers/gateway.js';
import { accessLine, ask, shippedDoc, startAuthGateway, type AuthGateway } from './fixture.js';

let pc: AuthGateway;
t.before(async () => { pc = await startAuthGateway(await shippedDoc()); });
t.teardown(() => pc?.close());

const head = (lines: string[]) => lines.join('\r\n') + '\r\n\r\n';

void t.test('an Upgrade request is answered as a decision, not switched', async (t) => {
  const r = await rawRequest(pc.port, head(['GET /envoy/public/x HTTP/1.1', 'Host: a.example', 'Connection: Upgrade', 'Upgrade: websocket']));
  t.equal(r.status, 200);
  t.notMatch(r.text, /101 Switching/);
});

void t.test('CONNECT: 405, logged', async (t) => {
  const r = await rawRequest(pc.port, head(['CONNECT a.example:443 HTTP/1.1', 'Host: a.example:443']));
  t.equal(r.status, 405);
  const logged = () => pc.gw.access().some((l) => l['method'] === 'CONNECT' && l['status'] === 405 && l['decision'] === 'bad_request');
  t.ok(await eventually(logged), 'logged as a bad request');
});

void t.test('a body is not read: the answer closes the connection', async (t) => {
  const r = await rawRequest(pc.port, head([
    'GET /nginx HTTP/1.1', 'Host: a.example', 'X-Original-URI: /public', 'X-Original-Method: GET', 'Content-Length: 5',
  ]) + 'hello');
  t.equal(r.status, 200);
  t.match(r.text, /\r\nconnection: close\r\n/i);
  const twin = await rawRequest(pc.port, head(['GET /nginx HTTP/1.1', 'Host: a.example', 'X-Original-URI: /public', 'X-Original-Method: GET']));
  t.match(twin.text, /\r\nConnection: keep-alive\r\n/, 'the twin without a body keeps its connection');
});

void t.test('malformed framing: the parser\'s 400, with a request id and a log line', async (t) => {
  const r = await rawRequest(pc.port, 'GET /nginx HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  t.equal(r.status, 400);
  t.match(r.text, /X-Request-Id: [0-9a-f-]{36}/);
});

void t.test('a stage that throws, at once or later: 500 (on /nginx: 403 + X-Auth-Status 500), logged, counted', async (t) => {
  const pc2 = await startAuthGateway(await shippedDoc());
  t.teardown(() => pc2.close());
  const route = pc2.gw.runtime.current.routes.routes.find((r) => r.name === 'public')!;
  const stage = route.stages[0] as { handle: unknown };
  stage.handle = (ctx: { responseHeaders: string[] | null }) => {
    ctx.responseHeaders = ['ratelimit', '"x";r=1;t=1'];
    throw new Error('boom: secret detail');
  };
  const now = await ask(pc2.url + '/nginx', { 'x-original-uri': '/public', 'x-original-method': 'GET' });
  t.equal(now.status, 403);
  t.equal(now.headers['x-auth-status'], '500');
  t.equal(now.headers['ratelimit'], undefined, 'no stage header on a 500');
  t.equal(now.body, JSON.stringify({ error: 'internal_error', requestId: now.headers['x-request-id'] }));
  stage.handle = () => Promise.reject(new Error('later boom'));
  const later = await ask(pc2.url + '/traefik', { 'x-forwarded-uri': '/public', 'x-forwarded-method': 'GET' });
  t.equal(later.status, 500);
  t.notMatch(later.body, /boom/);
  t.match(await accessLine(pc2.gw, later.headers['x-request-id']), { status: 500, decision: 'upstream_error', route: 'public' });
  t.match(await pc2.gw.metrics.registry.metrics(), /portcullis_internal_errors_total\{stage="forward-auth"\} 2/);
});
