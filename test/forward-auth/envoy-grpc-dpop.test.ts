/**
 * DPoP over Envoy's gRPC ext_authz (listeners.authGrpc; issue 20 item 1, forward-auth shape): a
 * real grpc-js client, built from the same protos, sends CheckRequests as Envoy builds them, with
 * the client's `authorization: DPoP <token>` and `dpop` proof in attributes.request.http.headers
 * and the original method, path and host beside them. A valid proof is allowed; a bad one gets
 * 401 with `WWW-Authenticate: DPoP error="invalid_dpop_proof"` in the denied response; a
 * replayed one is refused; the htu port is the one in the original host, not a client's
 * X-Forwarded-Port. Keys and tokens are made at test time.
 */
import t from 'tap';
import { startGateway, type TestGateway, waitForSigningKeys } from '../helpers/gateway.js';
import { CheckClientOf, envoyCheck, grpcPort, headerMap, type CheckResponse } from '../helpers/grpc-check.js';
import { makeKey, type TestKey } from '../helpers/idp.js';
import { jkt, proof } from '../helpers/dpop.js';
import { endpointDoc, token } from './fixture.js';

const HOST = 'api.example.com:8443';
const HTU = 'https://api.example.com:8443/dpop/items';

let gw: TestGateway;
let client: CheckClientOf;
let key: TestKey;
let bound: string;

t.before(async () => {
  const doc = await endpointDoc(true, [{ name: 'dpop-only', match: { path: '/dpop' }, auth: { dpop: 'required' }, waf: 'off', upstream: 'http://127.0.0.1:1' }]);
  (doc['auth'] as { providers: Record<string, unknown>[] }).providers[0]!['dpop'] = 'allowed';
  gw = await startGateway({ ...doc, listeners: { authGrpc: { host: '127.0.0.1', port: 0 } } });
  await waitForSigningKeys(gw);
  client = new CheckClientOf(`127.0.0.1:${grpcPort(gw)}`);
  key = makeKey('ES256');
  bound = await token('alice', { claims: [`cnf.jkt=${await jkt(key)}`] });
});
t.teardown(async () => {
  client?.close();
  await gw?.close();
});

/** A CheckRequest for POST https://api.example.com:8443/dpop/items?page=2 with the client's headers. */
const check = (headers: Record<string, string>, host = HOST, method = 'POST'): Promise<CheckResponse> =>
  client.check(envoyCheck(method, '/dpop/items?page=2', { 'x-forwarded-proto': 'https', ...headers }, host));
const denial = (r: CheckResponse) => ({ grpc: r.status?.code, http: r.denied_response?.status?.code, headers: headerMap(r.denied_response?.headers) });
const dpopHeaders = (p: string) => ({ authorization: `DPoP ${bound}`, dpop: p });

void t.test('a valid proof is allowed; the same proof again is refused as replayed', async (t) => {
  const p = proof(key, { htm: 'POST', htu: HTU, token: bound });
  const ok = await check(dpopHeaders(p));
  t.equal(ok.status?.code, 0, 'OK: allowed');
  t.equal(ok.denied_response, undefined);
  const again = denial(await check(dpopHeaders(p)));
  t.match(again, { grpc: 16, http: 401 });
  t.match(again.headers['www-authenticate'], /^DPoP realm="portcullis", error="invalid_dpop_proof", error_description="DPoP proof already used", algs="/);
  t.equal(again.headers['cache-control'], 'no-store');
});

void t.test('bad proofs: 401 with WWW-Authenticate: DPoP error="invalid_dpop_proof"', async (t) => {
  const other = makeKey('ES256');
  const cases: [string, string, RegExp][] = [
    ['wrong htm', proof(key, { htm: 'GET', htu: HTU, token: bound }), /DPoP proof htm/],
    ['htu of another host', proof(key, { htm: 'POST', htu: 'https://evil.example.com:8443/dpop/items', token: bound }), /DPoP proof htu/],
    ['htu of another path', proof(key, { htm: 'POST', htu: 'https://api.example.com:8443/dpop/other', token: bound }), /DPoP proof htu/],
    ['signed by another key than its jwk', proof(key, { htm: 'POST', htu: HTU, token: bound }, other), /signature/],
    ['made with a key the token is not bound to', proof(other, { htm: 'POST', htu: HTU, token: bound }), /key/],
    ['ath of another token', proof(key, { htm: 'POST', htu: HTU, token: 'another.access.token' }), /ath|access token/],
  ];
  for (const [name, p, description] of cases) {
    const d = denial(await check(dpopHeaders(p)));
    t.match(d, { grpc: 16, http: 401 }, name);
    t.match(d.headers['www-authenticate'], /^DPoP realm="portcullis", error="invalid_dpop_proof", error_description="/, name);
    t.match(d.headers['www-authenticate'], description, name);
  }
  const none = denial(await check({ authorization: `DPoP ${bound}` }));
  t.match(none, { grpc: 16, http: 401 }, 'no proof at all');
  t.match(none.headers['www-authenticate'], /error="invalid_dpop_proof"/);
  const bearer = denial(await check({ authorization: `Bearer ${bound}` }));
  t.match(bearer.headers['www-authenticate'], /^DPoP realm="portcullis", error="invalid_token", error_description="DPoP-bound token required"/, 'a bound token as Bearer on a required route');
});

void t.test('the htu port is the original host\'s: a client\'s X-Forwarded-Port through Envoy is not believed', async (t) => {
  const for8443 = proof(key, { htm: 'POST', htu: HTU, token: bound });
  const spoofed = denial(await check({ ...dpopHeaders(for8443), 'x-forwarded-port': '8443' }, 'api.example.com'));
  t.match(spoofed, { grpc: 16, http: 401 }, 'host on the default port, proof for :8443: refused whatever X-Forwarded-Port says');
  t.match(spoofed.headers['www-authenticate'], /DPoP proof htu/);
  const ok = await check(dpopHeaders(proof(key, { htm: 'POST', htu: 'https://api.example.com/dpop/items', token: bound })), 'api.example.com');
  t.equal(ok.status?.code, 0, 'a proof for the default port, host without a port: allowed');
});
