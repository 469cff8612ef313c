/**
 * Tracing end to end (issue 19 item 2, docs/tracing.md): the gateway on real sockets exporting
 * OTLP/HTTP JSON to a real receiver on 127.0.0.1, a real upstream, a real JWKS server and a real
 * Redis. The spans are read back as the receiver decoded them.
 */
import t from 'tap';
import { request as httpRequest } from 'node:http';
import { startGateway, eventually } from '../../helpers/gateway.js';
import { startUpstream } from '../../helpers/upstream.js';
import { startOtlpReceiver, SPAN_KIND_CLIENT, SPAN_KIND_SERVER, type ReceivedSpan } from '../../helpers/otlp.js';
import { makeKey, TestIdp } from '../../helpers/idp.js';
import { startRedis, type RedisServer } from '../../helpers/redis.js';
import { TestAuthServer } from '../../helpers/introspection.js';
import { nowSec } from '../../helpers/idp.js';

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** A GET from a chosen loopback address: 127.0.0.2 is the "trusted peer" of these tests. */
function get(url: string, headers: Record<string, string>, localAddress = '127.0.0.1'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const CLIENT_TRACEPARENT = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;
const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

const servers = (spans: readonly ReceivedSpan[]): ReceivedSpan[] => spans.filter((s) => s.kind === SPAN_KIND_SERVER);

let redis: RedisServer;
t.before(async () => { redis = await startRedis(); });
t.teardown(async () => { await redis.stop(); });

void t.test('a SERVER span per request, an upstream CLIENT span, and the upstream sees it as parent', async (t) => {
  const otlp = await startOtlpReceiver();
  const up = await startUpstream();
  const key = makeKey('RS256');
  const idp = await TestIdp.start([key]);
  t.teardown(async () => { await up.close(); await idp.close(); await otlp.close(); });
  const gw = await startGateway({
    tracing: { enabled: true, endpoint: otlp.url, serviceName: 'gw-under-test', trustParentFrom: ['127.0.0.2'] },
    auth: { providers: [{ name: 'corp', issuer: idp.issuer, jwksUri: idp.jwksUri, algorithms: ['RS256'] }] },
    redis: { url: redis.url, keyPrefix: 'otel-test:' },
    rateLimits: { policies: { roomy: { key: 'ip', capacity: 1000, refillPerSecond: 1000 } } },
    routes: [
      { name: 'public', match: { path: '/public' }, auth: 'none', upstream: up.url },
      { name: 'api', match: { path: '/api' }, upstream: up.url, rateLimit: 'roomy' },
    ],
  });
  let closed = false;
  t.teardown(async () => { if (!closed) await gw.close(); });
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000), 'JWKS loaded');
  const token = idp.token(key, { sub: 'alice' });

  // 1. An untrusted peer's traceparent: a new trace, and the upstream never sees the client's.
  const untrusted = await get(`${gw.url}/public/x?token=sekrit-query`, { traceparent: CLIENT_TRACEPARENT, tracestate: 'evil=1' });
  t.equal(untrusted.status, 200);
  // 2. A trusted peer's: continued, tracestate passed on.
  const trusted = await get(`${gw.url}/public/y`, { traceparent: CLIENT_TRACEPARENT, tracestate: 'vendor=abc' }, '127.0.0.2');
  t.equal(trusted.status, 200);
  // 3. A JWT route with a Redis bucket.
  const authed = await get(`${gw.url}/api/z`, { authorization: `Bearer ${token}` });
  t.equal(authed.status, 200);
  t.equal(up.received.length, 3);

  const access = gw.access();
  await gw.close();
  closed = true; // shutdown flushes the batch processor: no wait for its 5 s schedule
  t.ok(otlp.posts > 0, 'spans were exported by the time shutdown returned');
  const spans = otlp.spans;
  t.equal(servers(spans).length, 3, 'one SERVER span per request');
  for (const s of spans) t.equal(s.serviceName, 'gw-under-test');

  const byPath = (p: string): ReceivedSpan => servers(spans).find((s) => s.attributes['url.path'] === p)!;
  const childOf = (parent: ReceivedSpan, name?: string): ReceivedSpan[] => spans.filter((s) => s.parentSpanId === parent.spanId && (name === undefined || s.name === name));

  // 1. untrusted
  const s1 = byPath('/public/x');
  t.not(s1.traceId, CLIENT_TRACE, 'untrusted traceparent: a new trace');
  t.equal(s1.parentSpanId, '', 'untrusted traceparent: a root span');
  t.equal(s1.name, 'GET public');
  t.match(s1.attributes, { 'http.request.method': 'GET', 'http.route': 'public', 'http.response.status_code': 200, 'portcullis.decision': 'allow', 'url.scheme': 'http' });
  const up1 = childOf(s1);
  t.equal(up1.length, 1, 'one CLIENT span under the request span');
  t.equal(up1[0]!.kind, SPAN_KIND_CLIENT);
  t.equal(up1[0]!.attributes['http.response.status_code'], 200);
  const tp1 = TRACEPARENT_RE.exec(String(up.received[0]!.headers['traceparent']));
  t.ok(tp1, 'the upstream got a well-formed traceparent');
  t.equal(tp1![1], s1.traceId, 'in our trace');
  t.equal(tp1![2], up1[0]!.spanId, 'whose parent is our upstream CLIENT span');
  t.equal(up.received[0]!.headers['tracestate'], undefined, "the untrusted client's tracestate is dropped");
  t.equal(up.received[0]!.rawHeaders.filter((h) => h.toLowerCase() === 'traceparent').length, 1, 'exactly one traceparent upstream');

  // 2. trusted
  const s2 = byPath('/public/y');
  t.equal(s2.traceId, CLIENT_TRACE, 'trusted traceparent: the trace continues');
  t.equal(s2.parentSpanId, CLIENT_SPAN, "trusted traceparent: the peer's span is the parent");
  const tp2 = TRACEPARENT_RE.exec(String(up.received[1]!.headers['traceparent']));
  t.equal(tp2![1], CLIENT_TRACE);
  t.equal(tp2![2], childOf(s2)[0]!.spanId);
  t.equal(up.received[1]!.headers['tracestate'], 'vendor=abc', "a trusted peer's tracestate goes on");

  // 3. JWT + Redis
  const s3 = byPath('/api/z');
  t.equal(s3.attributes['http.route'], 'api');
  t.equal(s3.attributes['enduser.id'], undefined, 'no sub without includeSubject');
  t.equal(childOf(s3, 'ratelimit redis').length, 1, 'a CLIENT span for the Redis bucket call');
  t.equal(childOf(s3, 'ratelimit redis')[0]!.attributes['portcullis.ratelimit.policy'], 'roomy');
  t.equal(childOf(s3, 'GET').length, 1, 'and one for the upstream call');
  const jwks = spans.filter((s) => s.name === 'jwks fetch');
  t.ok(jwks.length >= 1, 'the JWKS fetch has its span');
  t.equal(jwks[0]!.parentSpanId, '', 'a root span: no single request owns a key refresh');
  t.equal(jwks[0]!.attributes['portcullis.provider'], 'corp');

  // Nothing secret leaves in an export: not the token, nor any of its parts, nor the query.
  const exported = otlp.bodies.join('\n');
  for (const part of token.split('.')) t.notOk(exported.includes(part), 'no piece of the token is exported');
  t.notOk(exported.includes('sekrit-query'), 'the query string is not exported');
  t.notOk(exported.includes('alice'), 'the subject is not exported');

  // The access-log line names the span.
  const line = access.find((l) => l['path'] === '/public/x')!;
  t.equal(line['traceId'], s1.traceId);
  t.equal(line['spanId'], s1.spanId);
});

void t.test('introspection and OIDC discovery get CLIENT spans; the forward-auth answer names our span', async (t) => {
  const otlp = await startOtlpReceiver();
  const as = await TestAuthServer.start('gw', 'gw-secret', [makeKey('RS256', 'k1')]);
  t.teardown(async () => { await as.close(); await otlp.close(); });
  as.active.set('opaque-carol', { sub: 'carol', exp: nowSec() + 60 });
  const gw = await startGateway({
    listeners: { http: { host: '127.0.0.1', port: 0 }, auth: { host: '127.0.0.1', port: 0 } },
    server: { trustedProxies: ['127.0.0.2'] },
    tracing: { enabled: true, endpoint: otlp.url },
    auth: { providers: [{ name: 'as', issuer: as.issuer, discovery: true, algorithms: ['RS256'], introspection: { clientId: 'gw', clientSecret: 'gw-secret' } }] },
    routes: [{ name: 'api', match: { path: '/api' } }],
  });
  let closed = false;
  t.teardown(async () => { if (!closed) await gw.close(); });
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000), 'keys discovered and loaded');
  const auth = gw.runtime.listeners.find((l) => l.name === 'auth')!;
  const authUrl = `http://127.0.0.1:${(auth.server.address() as { port: number }).port}`;
  // Envoy's ext_authz shape, from the trusted proxy, which sends its own traceparent.
  const allowed = await get(`${authUrl}/envoy/api/x`, { authorization: 'Bearer opaque-carol', traceparent: CLIENT_TRACEPARENT }, '127.0.0.2');
  t.equal(allowed.status, 200);
  const denied = await get(`${authUrl}/envoy/api/x`, {});
  t.equal(denied.status, 401);
  await gw.close();
  closed = true;
  const fa = servers(otlp.spans);
  t.equal(fa.length, 2);
  const allowSpan = fa.find((s) => s.attributes['portcullis.decision'] === 'allow')!;
  t.equal(allowSpan.attributes['portcullis.shape'], 'forward-auth');
  t.equal(allowSpan.traceId, CLIENT_TRACE, "the caller's trace continues (trustParentFrom: trustedProxies)");
  t.equal(allowed.headers['traceparent'], `00-${allowSpan.traceId}-${allowSpan.spanId}-01`, 'the allow answer names our SERVER span');
  const denySpan = fa.find((s) => s.attributes['portcullis.decision'] === 'unauthenticated')!;
  t.equal(denied.headers['traceparent'], `00-${denySpan.traceId}-${denySpan.spanId}-01`, 'so does a denial');
  const intro = otlp.spans.filter((s) => s.name === 'introspection');
  t.equal(intro.length, 1, 'one introspection call, one span');
  t.equal(intro[0]!.parentSpanId, allowSpan.spanId, 'under the request that made it');
  t.equal(intro[0]!.attributes['portcullis.introspection.result'], 'active');
  const discovery = otlp.spans.filter((s) => s.name === 'oidc discovery');
  t.ok(discovery.length >= 1, 'OIDC discovery has its span');
  const jwks = otlp.spans.find((s) => s.name === 'jwks fetch')!;
  t.ok(discovery.some((d) => d.parentSpanId === jwks.spanId), "the JWKS discovery step is a child of the fetch's span");
  t.notOk(otlp.bodies.join('\n').includes('opaque-carol'), 'the opaque token is not exported');
});

void t.test('includeSubject puts sub on the request span as enduser.id', async (t) => {
  const otlp = await startOtlpReceiver();
  const up = await startUpstream();
  const key = makeKey('RS256');
  const idp = await TestIdp.start([key]);
  t.teardown(async () => { await up.close(); await idp.close(); await otlp.close(); });
  const gw = await startGateway({
    tracing: { enabled: true, endpoint: otlp.url, includeSubject: true },
    auth: { providers: [{ name: 'corp', issuer: idp.issuer, jwksUri: idp.jwksUri, algorithms: ['RS256'] }] },
    routes: [{ name: 'api', match: { path: '/' }, upstream: up.url }],
  });
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000));
  t.equal((await get(`${gw.url}/a`, { authorization: `Bearer ${idp.token(key, { sub: 'bob' })}` })).status, 200);
  await gw.close();
  t.equal(servers(otlp.spans)[0]?.attributes['enduser.id'], 'bob');
});

void t.test('sampleRatio 0 exports nothing, and the upstream still gets an unsampled traceparent', async (t) => {
  const otlp = await startOtlpReceiver();
  const up = await startUpstream();
  t.teardown(async () => { await up.close(); await otlp.close(); });
  const gw = await startGateway({
    tracing: { enabled: true, endpoint: otlp.url, sampleRatio: 0 },
    routes: [{ name: 'public', match: { path: '/' }, auth: 'none', upstream: up.url }],
  });
  for (let i = 0; i < 20; i++) t.equal((await get(`${gw.url}/n${i}`, {})).status, 200);
  const access = gw.access();
  await gw.close();
  t.equal(otlp.spans.length, 0, 'no span exported');
  t.equal(otlp.posts, 0, 'no export request at all');
  const tp = TRACEPARENT_RE.exec(String(up.received[0]!.headers['traceparent']));
  t.ok(tp, 'a traceparent still goes upstream');
  t.equal(tp![3], '00', 'flagged not sampled, so the upstream does not record either');
  t.equal(access[0]!['traceId'], tp![1], 'the access log names the (unsampled) trace');
});

void t.test('the collector down: requests unaffected, one warning, nothing piles up', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startGateway({
    // Port 1 refuses connections. A queue of 8 exports every 8 spans: many failed exports quickly.
    tracing: { enabled: true, endpoint: 'http://127.0.0.1:1/v1/traces', maxQueueSize: 8, exportTimeoutMs: 1000 },
    routes: [{ name: 'public', match: { path: '/' }, auth: 'none', upstream: up.url }],
  });
  for (let i = 0; i < 60; i++) t.equal((await get(`${gw.url}/d${i}`, {})).status, 200);
  const warned = (): Record<string, unknown>[] => gw.logs.filter((l) => l['msg'] === 'trace export failed; spans are dropped until the collector answers (one line until it recovers)');
  t.ok(await eventually(() => warned().length > 0, 10_000), 'the failure is logged');
  for (let i = 0; i < 30; i++) t.equal((await get(`${gw.url}/e${i}`, {})).status, 200);
  await gw.close();
  t.equal(warned().length, 1, 'once, not per batch');
  t.equal(warned()[0]!['endpoint'], 'http://127.0.0.1:1/v1/traces');
  t.equal(gw.access().length, 90, 'every request answered and logged');
});

void t.test('tracing off: a client traceparent goes upstream unchanged (PRODUCT §4) and the log has no trace fields', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const gw = await startGateway({ routes: [{ name: 'public', match: { path: '/' }, auth: 'none', upstream: up.url }] });
  t.equal((await get(`${gw.url}/off`, { traceparent: CLIENT_TRACEPARENT })).status, 200);
  t.equal(gw.runtime.current.tracing.enabled, false);
  await gw.close();
  t.equal(up.received[0]!.headers['traceparent'], CLIENT_TRACEPARENT);
  t.equal(gw.access()[0]!['traceId'], undefined);
});
