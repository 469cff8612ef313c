/**
 * DPoP in the forward-auth shape: the proof and the token come in the caller's headers (the
 * client's, passed through), the method and URI the proof must name come from the caller's own
 * statement of the original request — Envoy's check request, Traefik's X-Forwarded-*, and the
 * real NGINX running the shipped config/nginx/nginx.conf (which passes X-Forwarded-Port and
 * hands DPoP-Nonce on to its client).
 */
import t from 'tap';
import { request } from 'undici';
import { findNginx, startNginx, type TestNginx } from '../helpers/nginx.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { makeKey, type TestKey } from '../helpers/idp.js';
import { jkt, proof } from '../helpers/dpop.js';
import { shippedDoc, startAuthGateway, token, type AuthGateway } from '../forward-auth/fixture.js';

let pc: AuthGateway;
let client: TestKey;
let bound: string;

t.before(async () => {
  client = makeKey('ES256');
  const doc = await shippedDoc();
  (doc['auth'] as { providers: Record<string, unknown>[] }).providers[0]!['dpop'] = 'allowed';
  doc.server['trustedProxies'] = ['127.0.0.1/32'];
  doc.routes.unshift({ name: 'dpop-only', match: { path: '/dpop' }, auth: { dpop: 'required' }, waf: 'off' });
  pc = await startAuthGateway(doc, { cacheMaxAgeSec: 30 });
  bound = await token('alice', { claims: [`cnf.jkt=${await jkt(client)}`] });
});
t.teardown(async () => {
  await pc?.close();
});

async function ask(path: string, headers: Record<string, string>, method = 'GET') {
  const res = await request(pc.url + path, { method, headers });
  await res.body.text();
  return { status: res.statusCode, headers: res.headers };
}

void t.test('/envoy: the check request names the original method, path and Host', async (t) => {
  const host = 'api.example.com:8443';
  const htu = 'https://api.example.com:8443/dpop/items';
  const headers = (p: string) => ({ host, 'x-forwarded-proto': 'https', authorization: `DPoP ${bound}`, dpop: p });
  const ok = await ask('/envoy/dpop/items?x=1', headers(proof(client, { htm: 'POST', htu, token: bound })), 'POST');
  t.equal(ok.status, 200, 'allowed');
  t.equal(ok.headers['cache-control'], 'no-store', 'a DPoP route is never cacheable, even with cacheMaxAgeSec');
  const wrongMethod = await ask('/envoy/dpop/items', headers(proof(client, { htm: 'GET', htu, token: bound })), 'POST');
  t.equal(wrongMethod.status, 401);
  t.match(String(wrongMethod.headers['www-authenticate']), /DPoP realm="portcullis", error="invalid_dpop_proof", error_description="DPoP proof htm/);
  const wrongPort = await ask('/envoy/dpop/items', headers(proof(client, { htm: 'POST', htu: 'https://api.example.com/dpop/items', token: bound })), 'POST');
  t.equal(wrongPort.status, 401, 'htu on the default port: another URI than :8443');
});

void t.test('/traefik: X-Forwarded-Method, -Proto, -Host and -Uri name the original request', async (t) => {
  const base = { 'x-forwarded-method': 'GET', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example.com', 'x-forwarded-uri': '/dpop/a?q=1', authorization: `DPoP ${bound}` };
  const ok = await ask('/traefik', { ...base, dpop: proof(client, { htu: 'https://api.example.com/dpop/a', token: bound }) });
  t.equal(ok.status, 200);
  const otherHost = await ask('/traefik', { ...base, dpop: proof(client, { htu: 'https://evil.example.com/dpop/a', token: bound }) });
  t.equal(otherHost.status, 401);
  const bearer = await ask('/traefik', { ...base, authorization: `Bearer ${bound}` });
  t.equal(bearer.status, 401, 'a bound token as Bearer');
  t.match(String(bearer.headers['www-authenticate']), /error="invalid_token", error_description="DPoP-bound token required"/);
});

void t.test('X-Forwarded-Port: believed only where the caller writes it, never a client\'s copy', async (t) => {
  // A proof made for :8443, presented for the same host on the default port with the client's
  // own X-Forwarded-Port: 8443 riding along (Envoy and HAProxy pass client headers on).
  const for8443 = () => proof(client, { htu: 'https://api.example.com:8443/dpop/p', token: bound });
  const envoy = await ask('/envoy/dpop/p', { host: 'api.example.com', 'x-forwarded-proto': 'https', 'x-forwarded-port': '8443', authorization: `DPoP ${bound}`, dpop: for8443() });
  t.equal(envoy.status, 401, '/envoy: the port is the one in Host, a client\'s X-Forwarded-Port is ignored');
  t.match(String(envoy.headers['www-authenticate']), /error="invalid_dpop_proof", error_description="DPoP proof htu/);
  const envoyHost = await ask('/envoy/dpop/p', { host: 'api.example.com', 'x-forwarded-host': 'api.example.com:8443', 'x-forwarded-proto': 'https', authorization: `DPoP ${bound}`, dpop: for8443() });
  t.equal(envoyHost.status, 401, '/envoy: nor a client\'s X-Forwarded-Host naming a port');
  const haproxy = await ask('/haproxy', {
    'x-original-method': 'GET', 'x-original-uri': '/dpop/p', 'x-forwarded-host': 'api.example.com', 'x-forwarded-proto': 'https',
    'x-forwarded-port': '8443', authorization: `DPoP ${bound}`, dpop: for8443(),
  });
  t.equal(haproxy.status, 401, '/haproxy: haproxy.cfg does not write X-Forwarded-Port, so a copy is the client\'s');
  const traefik = await ask('/traefik', {
    'x-forwarded-method': 'GET', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example.com', 'x-forwarded-uri': '/dpop/p',
    'x-forwarded-port': '8443', authorization: `DPoP ${bound}`, dpop: for8443(),
  });
  t.equal(traefik.status, 200, '/traefik from a trusted caller: Traefik writes X-Forwarded-Port itself, so it is the port');
  const envoyOk = await ask('/envoy/dpop/p', { host: 'api.example.com:8443', 'x-forwarded-proto': 'https', authorization: `DPoP ${bound}`, dpop: for8443() });
  t.equal(envoyOk.status, 200, '/envoy with the port in Host: allowed');
});

if (findNginx() === null) {
  if (process.env['CI']) t.fail('nginx is not installed');
  else t.comment('nginx is not installed: the /nginx case is skipped');
} else {
  void t.test('/nginx: the real NGINX with the shipped config, client → NGINX → backend', async (t) => {
    let backend: RecordingUpstream | null = null;
    let ngx: TestNginx | null = null;
    try {
      backend = await startUpstream();
      ngx = await startNginx({ auth: pc.port, backend: backend.port });
      const htu = `${ngx.url}/dpop/items`;
      const p = proof(client, { htu, token: bound });
      const res = await request(`${ngx.url}/dpop/items?page=1`, { headers: { authorization: `DPoP ${bound}`, dpop: p } });
      await res.body.text();
      t.equal(res.statusCode, 200, 'allowed through NGINX');
      t.equal(backend.received.at(-1)?.url, '/dpop/items?page=1');
      const again = await request(`${ngx.url}/dpop/items?page=1`, { headers: { authorization: `DPoP ${bound}`, dpop: p } });
      await again.body.text();
      t.equal(again.statusCode, 401, 'the same proof again: replayed');
      t.match(String(again.headers['www-authenticate']), /error="invalid_dpop_proof", error_description="DPoP proof already used"/);
      const otherPort = proof(client, { htu: 'http://127.0.0.1/dpop/items', token: bound });
      const wrong = await request(`${ngx.url}/dpop/items`, { headers: { authorization: `DPoP ${bound}`, dpop: otherPort } });
      await wrong.body.text();
      t.equal(wrong.statusCode, 401, 'htu without NGINX\'s port: X-Forwarded-Port is compared');
    } finally {
      await ngx?.close();
      await backend?.close();
    }
  });
}
