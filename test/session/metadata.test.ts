/**
 * The sign-in provider's discovery document (src/session/metadata.ts) under tracing: each fetch
 * of {issuer}/.well-known/openid-configuration is a root `oidc discovery` CLIENT span, exported to
 * a real OTLP/HTTP receiver on 127.0.0.1; a document that fails the checks fails its span. The OP
 * is real (oidc-provider); the failing one is a node:http server naming another issuer.
 */
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually, startGateway } from '../helpers/gateway.js';
import { startOtlpReceiver, SPAN_KIND_CLIENT, type ReceivedSpan } from '../helpers/otlp.js';
import { startBed } from './fixture.js';

/** OTLP StatusCode ERROR (opentelemetry-proto trace.proto Status). */
const STATUS_ERROR = 2;

const discoveries = (spans: readonly ReceivedSpan[], purpose: string): ReceivedSpan[] =>
  spans.filter((s) => s.name === 'oidc discovery' && s.attributes['portcullis.discovery.for'] === purpose);

void t.test('sign-in discovery is a root span of its own, beside the JWKS fetch\'s nested one', async (t) => {
  const otlp = await startOtlpReceiver();
  t.teardown(() => otlp.close());
  const bed = await startBed({ extra: { tracing: { enabled: true, endpoint: otlp.url } } });
  // ready: the sign-in document and the keys are loaded; closing flushes the spans.
  await bed.close();
  const signIn = discoveries(otlp.spans, 'sign-in');
  t.equal(signIn.length, 1, 'one sign-in discovery fetch, one span');
  const s = signIn[0]!;
  t.equal(s.kind, SPAN_KIND_CLIENT);
  t.equal(s.parentSpanId, '', 'a root span: no request owns it');
  t.match(s.attributes, { 'portcullis.provider': 'op', 'url.full': `${bed.op.issuer}/.well-known/openid-configuration` });
  t.equal(s.statusCode, 0, 'not failed');
  const jwks = otlp.spans.find((x) => x.name === 'jwks fetch');
  t.ok(jwks, 'the JWKS fetch has its span');
  const nested = discoveries(otlp.spans, 'jwks');
  t.ok(nested.length >= 1 && nested.every((n) => n.parentSpanId === jwks!.spanId), "the JWKS's own discovery stays under the JWKS fetch");
  t.not(s.traceId, jwks!.traceId, 'the sign-in discovery is not part of the JWKS trace');
});

void t.test('a discovery document for another issuer fails its span, with the reason and no body', async (t) => {
  const otlp = await startOtlpReceiver();
  let asked = 0;
  const idp = createServer((req, res) => {
    asked++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: 'http://elsewhere.example', authorization_endpoint: 'http://elsewhere.example/a', 'body-marker': 'do-not-export' }));
  });
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => { idp.closeAllConnections(); await new Promise((r) => idp.close(r)); await otlp.close(); });
  const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  const gw = await startGateway({
    listeners: { http: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 } },
    tracing: { enabled: true, endpoint: otlp.url },
    auth: { providers: [{ name: 'wrong', issuer, discovery: true, algorithms: ['RS256'], client: { id: 'c', secret: 's', redirectUri: 'http://127.0.0.1:1/.portcullis/callback' } }] },
    sessions: { secrets: ['session-secret-A-0123456789abcdefghijkl'] },
    routes: [{ name: 'app', match: { path: '/' }, upstream: 'http://127.0.0.1:1', auth: { login: 'wrong' } }],
  });
  let closed = false;
  t.teardown(async () => { if (!closed) await gw.close(); });
  t.ok(await eventually(() => gw.logs.some((l) => l['msg'] === 'OIDC discovery failed; retrying'), 5_000), 'the sign-in discovery failed');
  await gw.close();
  closed = true;
  t.ok(asked > 0);
  const failed = discoveries(otlp.spans, 'sign-in');
  t.ok(failed.length >= 1, 'the failed fetch has its span');
  t.equal(failed[0]!.statusCode, STATUS_ERROR, 'marked as an error');
  t.equal(failed[0]!.parentSpanId, '');
  const exported = otlp.bodies.join('\n');
  t.ok(exported.includes('\\"issuer\\" does not equal the configured issuer'), 'the reason is the span status message');
  t.notOk(exported.includes('do-not-export'), 'the document itself is not exported');
});
