/**
 * Tracing of gRPC ext_authz Check calls (issue 19, docs/tracing.md): a real gRPC client built from
 * the same protos, a real OTLP/HTTP receiver on 127.0.0.1, a real Redis. A Check call's SERVER
 * span has the attributes of the same request asked over HTTP `/envoy`; the traceparent among
 * the CheckRequest's headers is continued only from a trusted peer, as `/envoy` continues it.
 */
import t from 'tap';
import { request as httpRequest } from 'node:http';
import { startGateway, type TestGateway, waitForSigningKeys } from '../helpers/gateway.js';
import { CheckClientOf, envoyCheck, grpcPort } from '../helpers/grpc-check.js';
import { startOtlpReceiver, SPAN_KIND_SERVER, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { endpointDoc, token } from './fixture.js';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const CLIENT_TRACEPARENT = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;
const HOST = 'app.example.com';

interface Traced {
  readonly gw: TestGateway;
  readonly client: CheckClientOf;
  readonly authUrl: string;
  /** Shuts the gateway down once (later calls wait for the same): its shutdown flushes the spans to the receiver. */
  close(): Promise<void>;
}

let redis: RedisServer;
t.before(async () => { redis = await startRedis(); });
t.teardown(async () => { await redis.stop(); });

/** The shipped forward-auth config (trustedProxies 127.0.0.1 or none), tracing to `otlp`, buckets in Redis. */
async function start(t: { teardown(fn: () => Promise<void>): void }, otlp: OtlpReceiver, trusted: boolean): Promise<Traced> {
  const doc = await endpointDoc(trusted, []);
  const gw = await startGateway({
    ...doc,
    listeners: { auth: { host: '127.0.0.1', port: 0 }, authGrpc: { host: '127.0.0.1', port: 0 } },
    tracing: { enabled: true, endpoint: otlp.url },
    redis: { url: redis.url, keyPrefix: `grpc-trace-${String(trusted)}:` },
  });
  await waitForSigningKeys(gw);
  const client = new CheckClientOf(`127.0.0.1:${grpcPort(gw)}`);
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => (closing ??= (async () => { client.close(); await gw.close(); })());
  t.teardown(close);
  const port = (gw.runtime.listeners.find((l) => l.name === 'auth')!.server.address() as { port: number }).port;
  return { gw, client, authUrl: `http://127.0.0.1:${port}`, close };
}

/** The same request over HTTP `/envoy`, as Envoy's HTTP ext_authz sends it. */
function envoyHttp(url: string, headers: Record<string, string>): Promise<{ status: number; traceparent: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, traceparent: res.headers['traceparent'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

const serverSpan = (spans: readonly ReceivedSpan[], requestId: string): ReceivedSpan | undefined =>
  spans.find((s) => s.kind === SPAN_KIND_SERVER && s.attributes['portcullis.request_id'] === requestId);

void t.test('a trusted Envoy: each Check is a SERVER span continuing its traceparent, with the HTTP span\'s attributes', async (t) => {
  const otlp = await startOtlpReceiver();
  t.teardown(() => otlp.close());
  const traced = await start(t, otlp, true);
  const { gw, client, authUrl } = traced;
  const carol = await token('carol');
  const allowed = await client.checkWithMetadata(envoyCheck('GET', '/api/orders?secret-query=1', {
    authorization: `Bearer ${carol}`, 'x-request-id': 'grpc-allow', traceparent: CLIENT_TRACEPARENT, tracestate: 'vendor=abc',
  }, HOST));
  t.equal(allowed.response.status?.code, 0);
  const denied = await client.checkWithMetadata(envoyCheck('GET', '/api/orders', { 'x-request-id': 'grpc-deny' }, HOST));
  t.equal(denied.response.denied_response?.status?.code, 401);
  const http = await envoyHttp(`${authUrl}/envoy/api/orders?secret-query=1`, {
    host: HOST, authorization: `Bearer ${await token('dave')}`, 'x-request-id': 'http-allow', traceparent: CLIENT_TRACEPARENT,
  });
  t.equal(http.status, 200);
  await traced.close();

  const g = serverSpan(otlp.spans, 'grpc-allow');
  const h = serverSpan(otlp.spans, 'http-allow');
  t.ok(g, 'the allowed Check has a SERVER span');
  t.ok(h, 'so has the same request over HTTP /envoy');
  t.equal(g!.traceId, CLIENT_TRACE, "the trusted caller's trace continues");
  t.equal(g!.parentSpanId, CLIENT_SPAN, "Envoy's span is the parent");
  t.equal(g!.name, 'GET api');
  t.equal(g!.name, h!.name);
  const { 'portcullis.request_id': gid, ...gAttrs } = g!.attributes;
  const { 'portcullis.request_id': hid, ...hAttrs } = h!.attributes;
  t.same(gAttrs, hAttrs, 'the attributes of the HTTP /envoy span, request id aside');
  t.not(gid, hid);
  t.match(gAttrs, {
    'http.request.method': 'GET', 'http.route': 'api', 'url.path': '/api/orders', 'server.address': HOST,
    'http.response.status_code': 200, 'portcullis.decision': 'allow', 'portcullis.shape': 'forward-auth',
  });
  t.equal(gAttrs['enduser.id'], undefined, 'no sub without includeSubject');
  const redisSpans = otlp.spans.filter((s) => s.name === 'ratelimit redis' && s.parentSpanId === g!.spanId);
  t.equal(redisSpans.length, 1, "the Redis bucket call is a child of the Check's span");
  t.equal(allowed.metadata['traceparent'], `00-${g!.traceId}-${g!.spanId}-01`, 'the response metadata names our span');
  t.same(
    (allowed.response.ok_response?.response_headers_to_add ?? []).filter((o) => o.header.key === 'traceparent'), [],
    "our traceparent is not put on the client's response",
  );

  const d = serverSpan(otlp.spans, 'grpc-deny')!;
  t.ok(d, 'a denied Check has its span too');
  t.equal(d.parentSpanId, '', 'no traceparent sent: a root span');
  t.match(d.attributes, { 'http.response.status_code': 401, 'portcullis.decision': 'unauthenticated', 'http.route': 'api' });
  t.equal(d.statusCode, 0, 'a 4xx is not an error of ours');
  t.equal(denied.metadata['traceparent'], `00-${d.traceId}-${d.spanId}-01`);

  const exported = otlp.bodies.join('\n');
  for (const part of carol.split('.')) t.notOk(exported.includes(part), 'no piece of the token is exported');
  t.notOk(exported.includes('secret-query'), 'nor the query');
  const line = gw.access().find((l) => l['requestId'] === 'grpc-allow')!;
  t.equal(line['traceId'], g!.traceId, 'the access-log line names the span');
  t.equal(line['spanId'], g!.spanId);
});

void t.test('an untrusted gRPC peer: its traceparent is not continued, as over HTTP /envoy', async (t) => {
  const otlp = await startOtlpReceiver();
  t.teardown(() => otlp.close());
  const traced = await start(t, otlp, false);
  const { client, authUrl } = traced;
  const answer = await client.checkWithMetadata(envoyCheck('GET', '/public/x', {
    'x-request-id': 'grpc-untrusted', traceparent: CLIENT_TRACEPARENT, tracestate: 'evil=1',
  }, HOST));
  t.equal(answer.response.status?.code, 0);
  t.equal((await envoyHttp(`${authUrl}/envoy/public/x`, { host: HOST, traceparent: CLIENT_TRACEPARENT })).status, 200);
  await traced.close();
  const servers = otlp.spans.filter((s) => s.kind === SPAN_KIND_SERVER);
  t.equal(servers.length, 2, 'one span per call, gRPC and HTTP');
  for (const s of servers) {
    t.not(s.traceId, CLIENT_TRACE, `${String(s.attributes['portcullis.request_id'])}: a new trace`);
    t.equal(s.parentSpanId, '', 'a root span');
  }
  // An untrusted caller's X-Request-Id is not believed either: the metadata finds the gRPC span.
  t.ok(servers.some((s) => `00-${s.traceId}-${s.spanId}-01` === answer.metadata['traceparent']), 'the response metadata names a span of ours');
  t.notOk(otlp.bodies.join('\n').includes('evil=1'), "the client's tracestate is not exported");
});
