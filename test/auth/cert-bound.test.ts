/**
 * RFC 8705 certificate-bound tokens (issue 20 item 2), against real TLS and real certificates made
 * at test time: a token whose cnf["x5t#S256"] names a client certificate passes only with that
 * certificate — on the connection (edge, mTLS), or forwarded by a trusted proxy (Envoy XFCC, NGINX
 * $ssl_client_escaped_cert) in both shapes. A forwarded certificate from an untrusted peer counts
 * for nothing, and never reaches the upstream.
 */
import t from 'tap';
import { createHash, X509Certificate } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { readFile } from 'node:fs/promises';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { h1Request, issue, listenerPort, makeCa, serverPki, tempDir, type CertFiles } from '../helpers/certs.js';
import { makeKey, TestIdp, type TestKey } from '../helpers/idp.js';

interface Client { cert: string; key: string; pem: string; thumbprint: string; der: Buffer }
let up: RecordingUpstream;
let idp: TestIdp;
let key: TestKey;
let serverCa: CertFiles;
let https: { cert: string; key: string };
let clientCa: CertFiles;
let alice: Client;
let bob: Client;

/** RFC 8705 §3.1, computed here from the DER: base64url(SHA-256(DER)). */
function x5t(pem: string): { thumbprint: string; der: Buffer } {
  const der = new X509Certificate(pem).raw;
  return { thumbprint: createHash('sha256').update(der).digest('base64url'), der };
}

async function client(files: CertFiles): Promise<Client> {
  return { cert: files.pem, key: await readFile(files.key, 'utf8'), pem: files.pem, ...x5t(files.pem) };
}

t.before(async () => {
  const dir = await tempDir(t);
  const pki = await serverPki(dir);
  serverCa = pki.ca;
  https = { cert: pki.server.cert, key: pki.server.key };
  clientCa = await makeCa(dir, 'clients');
  alice = await client(await issue(dir, 'alice', clientCa, { subject: '/CN=alice', usage: 'client' }));
  bob = await client(await issue(dir, 'bob', clientCa, { subject: '/CN=bob', usage: 'client' }));
  key = makeKey('ES256');
  idp = await TestIdp.start([key]);
  up = await startUpstream();
});
t.teardown(async () => {
  await up.close();
  await idp.close();
});

const bound = (thumbprint: string, claims: Record<string, unknown> = {}) => idp.token(key, { cnf: { 'x5t#S256': thumbprint }, ...claims });

async function gateway(certificateBound: Record<string, unknown>): Promise<{ gw: TestGateway; https: number; auth: number }> {
  const gw = await startGateway({
    server: { trustedProxies: ['127.0.0.1/32'] },
    listeners: {
      http: { host: '127.0.0.1', port: 0 },
      https: { host: '127.0.0.1', port: 0, ...https, clientCa: clientCa.cert, requireClientCert: false },
      auth: { host: '127.0.0.1', port: 0 },
    },
    auth: { providers: [{ name: 'idp', issuer: idp.issuer, jwksUri: idp.jwksUri, algorithms: ['ES256'] }], certificateBound },
    routes: [
      { name: 'api', match: { path: '/api' }, upstream: up.url, identityHeaders: { 'X-User': 'sub' } },
      { name: 'public', match: { path: '/public' }, auth: 'none', upstream: up.url },
    ],
  });
  return { gw, https: listenerPort(gw.runtime, 'https'), auth: listenerPort(gw.runtime, 'auth') };
}

/** Plain HTTP from a chosen loopback address: 127.0.0.1 is a trusted proxy, 127.0.0.2 is not. */
function plain(port: number, path: string, headers: Record<string, string>, from = '127.0.0.1'): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, localAddress: from, agent: false, headers: { host: 'api.test', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const xfccOf = (c: Client) => `By=spiffe://gw;Hash=${createHash('sha256').update(c.der).digest('hex')};Cert="${encodeURIComponent(c.pem)}";Subject="CN=x"`;
const INVALID = /^Bearer realm="portcullis", error="invalid_token", error_description="[^"]+"$/;

void t.test('edge, mTLS: the verified connection certificate must match cnf x5t#S256', async (t) => {
  const { gw, https: port } = await gateway({});
  t.teardown(() => gw.close());
  const as = (c: Client | null, token: string) => h1Request(port, '/api/x', { ca: serverCa.pem, ...(c === null ? {} : { cert: c.cert, key: c.key }), headers: { authorization: `Bearer ${token}` } });
  const token = bound(alice.thumbprint);

  const before = up.received.length;
  t.equal((await as(alice, token)).status, 200, 'the certificate the token is bound to');
  t.equal((await as(alice, token)).status, 200, 'again, from the verified-token cache');
  t.equal(up.received.length, before + 2);
  const other = await as(bob, token);
  t.equal(other.status, 401, 'another certificate of the same CA');
  t.match(other.headers['www-authenticate'], INVALID);
  t.match(String(other.headers['www-authenticate']), /does not match/);
  const none = await as(null, token);
  t.equal(none.status, 401, 'no certificate');
  t.match(String(none.headers['www-authenticate']), /not presented/);
  t.equal(up.received.length, before + 2, 'refused requests never reach the upstream');

  t.equal((await as(null, idp.token(key))).status, 200, 'a token without cnf is unaffected');
  t.equal((await as(bob, idp.token(key, { cnf: { jkt: 'abc' } }))).status, 200, 'a DPoP-bound cnf (jkt only) is not this check');
  t.equal((await as(alice, idp.token(key, { cnf: { 'x5t#S256': 42 } }))).status, 401, 'a non-string thumbprint never matches');
  const failures = await gw.metrics.registry.getSingleMetricAsString('portcullis_auth_failures_total');
  t.match(failures, /provider="idp",reason="cert_mismatch"} [1-9]/);
  t.match(failures, /provider="idp",reason="cert_required"} [1-9]/);
});

void t.test('edge behind a trusted TLS-terminating proxy: Envoy XFCC', async (t) => {
  const { gw } = await gateway({ forwardedCertHeader: 'x-forwarded-client-cert' });
  t.teardown(() => gw.close());
  const token = bound(alice.thumbprint);
  const auth = { authorization: `Bearer ${token}` };

  const before = up.received.length;
  t.equal((await plain(gw.port, '/api/a', { ...auth, 'x-forwarded-client-cert': xfccOf(alice) })).status, 200, 'Cert (with a matching Hash)');
  t.equal(up.received[before]!.headers['x-forwarded-client-cert'], undefined, 'the forwarded certificate is consumed, not forwarded');
  t.equal(up.received[before]!.headers['x-user'], 'alice');
  const hashOnly = `Hash=${createHash('sha256').update(alice.der).digest('hex')};Subject="CN=alice"`;
  t.equal((await plain(gw.port, '/api/a', { ...auth, 'x-forwarded-client-cert': hashOnly })).status, 200, 'Hash alone');
  t.equal((await plain(gw.port, '/api/a', { ...auth, 'x-forwarded-client-cert': xfccOf(bob) })).status, 401, 'another certificate');
  const lying = `Hash=${createHash('sha256').update(bob.der).digest('hex')};Cert="${encodeURIComponent(alice.pem)}"`;
  t.equal((await plain(gw.port, '/api/a', { ...auth, 'x-forwarded-client-cert': lying })).status, 401, 'Hash and Cert disagree: the header is worthless');
  t.equal((await plain(gw.port, '/api/a', { ...auth, 'x-forwarded-client-cert': `${xfccOf(bob)},${xfccOf(alice)}` })).status, 401, 'two elements (APPEND_FORWARD): refused');
  t.equal((await plain(gw.port, '/api/a', { ...auth, 'x-forwarded-client-cert': 'Cert="%E0%A4%A"' })).status, 401, 'bad encoding: no certificate, no crash');
  t.equal((await plain(gw.port, '/api/a', auth)).status, 401, 'no header and a plain connection: no certificate');

  const n = up.received.length;
  const spoofed = await plain(gw.port, '/api/a', { ...auth, 'x-forwarded-client-cert': xfccOf(alice) }, '127.0.0.2');
  t.equal(spoofed.status, 401, 'from an untrusted peer the header is ignored');
  t.equal((await plain(gw.port, '/public', { 'x-forwarded-client-cert': xfccOf(alice) }, '127.0.0.2')).status, 200);
  t.equal(up.received[n]!.headers['x-forwarded-client-cert'], undefined, "an untrusted peer's copy is stripped before the upstream");
});

void t.test('forward-auth: /nginx with $ssl_client_escaped_cert, /envoy with XFCC', async (t) => {
  const nginxGw = await gateway({ forwardedCertHeader: 'ssl-client-cert' });
  t.teardown(() => nginxGw.gw.close());
  const token = bound(alice.thumbprint);
  const check = (cert: Client, from?: string) => plain(nginxGw.auth, '/nginx', {
    authorization: `Bearer ${token}`, 'x-original-uri': '/api/orders', 'x-original-method': 'GET', 'ssl-client-cert': encodeURIComponent(cert.pem),
  }, from);
  const allow = await check(alice);
  t.equal(allow.status, 200, 'NGINX forwards the certificate the token is bound to');
  t.equal(allow.headers['x-user'], 'alice');
  const mismatch = await check(bob);
  t.equal(mismatch.status, 401);
  t.match(mismatch.headers['www-authenticate'], INVALID);
  t.equal((await check(alice, '127.0.0.2')).status, 401, 'a caller outside trustedProxies: its certificate header is ignored');
  const der = await gateway({ forwardedCertHeader: 'x-ssl-client-der', forwardedCertFormat: 'der-base64' });
  t.teardown(() => der.gw.close());
  const derCheck = (cert: Client) => plain(der.auth, '/nginx', {
    authorization: `Bearer ${token}`, 'x-original-uri': '/api/orders', 'x-original-method': 'GET', 'x-ssl-client-der': cert.der.toString('base64'),
  });
  t.equal((await derCheck(alice)).status, 200, 'der-base64 (HAProxy ssl_c_der,base64)');
  t.equal((await derCheck(bob)).status, 401);

  const envoyGw = await gateway({ forwardedCertHeader: 'x-forwarded-client-cert' });
  t.teardown(() => envoyGw.gw.close());
  const envoy = (cert: Client) => plain(envoyGw.auth, '/envoy/api/orders', { authorization: `Bearer ${token}`, 'x-forwarded-client-cert': xfccOf(cert) });
  t.equal((await envoy(alice)).status, 200, 'Envoy ext_authz with XFCC');
  t.equal((await envoy(bob)).status, 401);
  t.equal((await plain(envoyGw.auth, '/envoy/api/orders', { authorization: `Bearer ${token}` })).status, 401, 'forward-auth never uses the caller\'s own connection');
});

void t.test('required: every token must be certificate-bound', async (t) => {
  const { gw, https: port } = await gateway({ required: true });
  t.teardown(() => gw.close());
  const as = (token: string) => h1Request(port, '/api/x', { ca: serverCa.pem, cert: alice.cert, key: alice.key, headers: { authorization: `Bearer ${token}` } });
  const unbound = await as(idp.token(key));
  t.equal(unbound.status, 401);
  t.match(String(unbound.headers['www-authenticate']), /not bound to a client certificate/);
  t.equal((await as(bound(alice.thumbprint))).status, 200);
});

void t.test('config: a bad forwardedCertFormat or header name names the key', async (t) => {
  const { validateConfig } = await import('../../src/config/validate.js');
  const base = { listeners: { http: { host: '127.0.0.1', port: 0 } }, routes: [] };
  t.throws(() => validateConfig({ ...base, auth: { providers: [], certificateBound: { forwardedCertFormat: 'pem' } } }), /auth\.certificateBound\.forwardedCertFormat/);
  t.throws(() => validateConfig({ ...base, auth: { providers: [], certificateBound: { forwardedCertHeader: 'bad header' } } }), /auth\.certificateBound\.forwardedCertHeader/);
  t.throws(() => validateConfig({ ...base, auth: { providers: [], certificateBound: { require: true } } }), /auth\.certificateBound/);
});
