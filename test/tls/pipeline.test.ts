/**
 * The whole pipeline over the HTTPS listener (issue 7 item 1): JWT auth, scopes, identity
 * headers, rate limits, the WAF, forwarding and the access log behave the same over HTTP/2,
 * HTTP/1.1-on-TLS and plain HTTP. One scenario, run on each transport, compared outcome for
 * outcome; only `tls`, `protocol` and X-Forwarded-Proto differ.
 */
import t, { type Test } from 'tap';
import { request } from 'undici';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { eventually, startGateway, type TestGateway } from '../helpers/gateway.js';
import { makeKey, TestIdp, type TestKey } from '../helpers/idp.js';
import { h1Request, h2Connect, h2Request, listenerPort, serverPki, tempDir, type CertFiles, type TlsResponse } from '../helpers/certs.js';

let up: RecordingUpstream;
let idp: TestIdp;
let key: TestKey;
let gw: TestGateway;
let ca: CertFiles;
let port: number;

t.before(async () => {
  const pki = await serverPki(await tempDir(t));
  ca = pki.ca;
  key = makeKey('ES256');
  idp = await TestIdp.start([key]);
  up = await startUpstream();
  gw = await startGateway({
    listeners: {
      http: { host: '127.0.0.1', port: 0 },
      https: { host: '127.0.0.1', port: 0, cert: pki.server.cert, key: pki.server.key },
      admin: { host: '127.0.0.1', port: 0 },
    },
    auth: { providers: [{ name: 'corp', issuer: idp.issuer, jwksUri: idp.jwksUri, algorithms: ['ES256'] }] },
    rateLimits: { policies: { tight: { key: 'sub', capacity: 4, refillPerSecond: 0.001 } } },
    waf: { mode: 'block', inspectBodyBytes: 4096 },
    routes: [{
      name: 'orders', match: { path: '/orders' }, upstream: up.url, rateLimit: 'tight',
      auth: { scopes: ['orders:read'] }, identityHeaders: { 'X-User': 'sub' },
    }],
  });
  port = listenerPort(gw.runtime, 'https');
  t.ok(await eventually(() => gw.runtime.current.notReadyReasons().length === 0, 5_000), 'JWKS fetched');
});
t.teardown(async () => {
  await gw.close();
  await up.close();
  await idp.close();
});

type Send = (path: string, opts: { headers?: Record<string, string>; method?: string; body?: string }) => Promise<TlsResponse>;

async function plain(path: string, opts: { headers?: Record<string, string>; method?: string; body?: string }): Promise<TlsResponse> {
  const res = await request(gw.url + path, { method: (opts.method ?? 'GET') as 'GET', headers: opts.headers, body: opts.body });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text(), tls: null, alpn: null };
}

/** The scenario; returns what each step produced, for comparison across transports. */
async function scenario(t: Test, name: string, send: Send, expect: { tls: string | null; protocol: string; proto: string }): Promise<unknown[]> {
  const sub = `alice-${name}`;
  const good = { authorization: `Bearer ${idp.token(key, { sub, scope: 'orders:read' })}` };
  const outcomes: unknown[] = [];
  const step = async (label: string, path: string, opts: Parameters<Send>[1], status: number, decision: string) => {
    const before = up.received.length;
    const res = await send(path, opts);
    t.equal(res.status, status, `${name} ${label}: ${status}`);
    const id = res.headers['x-request-id'] as string;
    t.ok(await eventually(() => gw.access().some((l) => l['requestId'] === id)), `${name} ${label}: logged`);
    const line = gw.access().find((l) => l['requestId'] === id)!;
    t.match(line, { status, decision, route: 'orders', tls: expect.tls, protocol: expect.protocol }, `${name} ${label}: log line`);
    const forwarded = up.received.length > before ? up.received.at(-1)! : null;
    if (forwarded !== null) {
      t.equal(forwarded.headers['x-user'], sub, `${name} ${label}: identity header from the token`);
      t.equal(forwarded.headers['x-forwarded-proto'], expect.proto, `${name} ${label}: X-Forwarded-Proto`);
      t.equal(forwarded.headers.authorization, good.authorization, `${name} ${label}: the token is forwarded`);
    }
    outcomes.push([label, res.status, line['decision'], line['sub'], forwarded === null ? null : forwarded.url, res.headers['ratelimit'] ?? null]);
  };
  await step('no token', '/orders/1', {}, 401, 'unauthenticated');
  await step('wrong scope', '/orders/1', { headers: { authorization: `Bearer ${idp.token(key, { sub, scope: 'other' })}` } }, 403, 'forbidden');
  await step('spoofed identity header', '/orders/1', { headers: { ...good, 'x-user': 'root' } }, 200, 'allow');
  // The rate limit runs before the WAF: refused attacks spend tokens too (capacity 4).
  await step('WAF in the query', '/orders/search?q=1%27%20UNION%20SELECT%20password%20FROM%20users--', { headers: good }, 403, 'waf_blocked');
  await step('WAF in the body', '/orders', { method: 'POST', headers: { ...good, 'content-type': 'application/json' }, body: '{"q":"1\' UNION SELECT password FROM users--"}' }, 403, 'waf_blocked');
  await step('second allowed', '/orders/2', { headers: good }, 200, 'allow');
  await step('over the limit', '/orders/3', { headers: good }, 429, 'rate_limited');
  return outcomes.map((o) => (o as unknown[]).map((v) => (typeof v === 'string' ? v.replace(sub, 'SUB') : v)));
}

void t.test('the same outcomes over HTTP/2, HTTP/1.1-on-TLS and plain HTTP', async (t) => {
  const session = await h2Connect(port, { ca: ca.pem });
  t.teardown(() => session.close());
  const h2 = await scenario(t, 'h2', (path, opts) => h2Request(session, path, opts), { tls: 'TLSv1.3', protocol: 'HTTP/2', proto: 'https' });
  const h1 = await scenario(t, 'h1', (path, opts) => h1Request(port, path, { ...opts, ca: ca.pem }), { tls: 'TLSv1.3', protocol: 'HTTP/1.1', proto: 'https' });
  const clear = await scenario(t, 'plain', plain, { tls: null, protocol: 'HTTP/1.1', proto: 'http' });
  t.same(h2, clear, 'HTTP/2 and plain HTTP: same statuses, decisions, identities, forwarded URLs and RateLimit fields');
  t.same(h1, clear, 'HTTP/1.1-on-TLS and plain HTTP: the same');
  t.match(await gw.metrics.registry.metrics(), /portcullis_waf_matches_total\{rule="942120",action="block"\} [1-9]/);
});
