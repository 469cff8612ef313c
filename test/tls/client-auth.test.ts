/**
 * mTLS (issue 7): clientCa + requireClientCert at the handshake; a verified client certificate
 * as route auth (`auth.clientCert`), as identity headers (`cert.*`) and as a rate-limit key.
 * Expired, self-signed and wrong-CA certificates are never an identity.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { eventually, startGateway, type TestGateway } from '../helpers/gateway.js';
import { h1Request, h2Connect, h2Request, issue, listenerPort, makeCa, serverPki, type CertFiles, tempDir } from '../helpers/certs.js';

interface Client { cert: string; key: string }
let up: RecordingUpstream;
let serverCa: CertFiles;
let https: { cert: string; key: string };
let clientCa: CertFiles;
const clients: Record<'alice' | 'bob' | 'expired' | 'selfSigned' | 'wrongCa', Client> = {} as never;

async function client(files: CertFiles): Promise<Client> {
  return { cert: files.pem, key: await readFile(files.key, 'utf8') };
}

t.before(async () => {
  const dir = await tempDir(t);
  const pki = await serverPki(dir);
  serverCa = pki.ca;
  https = { cert: pki.server.cert, key: pki.server.key };
  clientCa = await makeCa(dir, 'clients');
  const otherCa = await makeCa(dir, 'other');
  const usage = 'client' as const;
  clients.alice = await client(await issue(dir, 'alice', clientCa, { subject: '/CN=alice/O=Acme, Inc', sans: 'URI:spiffe://example.test/alice,email:alice@example.test', usage }));
  clients.bob = await client(await issue(dir, 'bob', clientCa, { subject: '/CN=bob/O=Other', sans: 'URI:spiffe://example.test/bob', usage }));
  clients.expired = await client(await issue(dir, 'expired', clientCa, { subject: '/CN=alice/O=Acme, Inc', days: -1, usage }));
  clients.selfSigned = await client(await issue(dir, 'self', null, { subject: '/CN=alice/O=Acme, Inc', usage }));
  clients.wrongCa = await client(await issue(dir, 'wrong', otherCa, { subject: '/CN=alice/O=Acme, Inc', usage }));
  up = await startUpstream();
});
t.teardown(() => up.close());

const routes = () => [
  {
    name: 'any-cert', match: { path: '/any' }, auth: { clientCert: {} }, upstream: up.url,
    identityHeaders: { 'X-Client-Subject': 'cert.subject', 'X-Client-Uri': 'cert.uri', 'X-Client-Cn': 'cert.cn', 'X-User': 'sub' },
  },
  { name: 'alice-only', match: { path: '/alice' }, auth: { clientCert: { subjects: ['O=Acme\\, Inc, CN=alice'] } }, upstream: up.url },
  { name: 'bob-san', match: { path: '/bob' }, auth: { clientCert: { sans: ['URI:spiffe://example.test/bob'] } }, upstream: up.url },
  { name: 'cert-and-token', match: { path: '/both' }, auth: { clientCert: {}, scopes: ['orders:read'] }, upstream: up.url },
  { name: 'public', match: { path: '/public' }, auth: 'none', upstream: up.url, identityHeaders: { 'X-Client-Subject': 'cert.subject' } },
  { name: 'limited', match: { path: '/limited' }, auth: { clientCert: {} }, upstream: up.url, rateLimit: 'per-cert' },
];

async function gateway(requireClientCert: boolean): Promise<{ gw: TestGateway; port: number }> {
  const gw = await startGateway({
    listeners: { http: { host: '127.0.0.1', port: 0 }, https: { host: '127.0.0.1', port: 0, ...https, clientCa: clientCa.cert, requireClientCert } },
    rateLimits: { policies: { 'per-cert': { key: 'cert', capacity: 2, refillPerSecond: 0.001 } } },
    routes: routes(),
  });
  return { gw, port: listenerPort(gw.runtime, 'https') };
}

void t.test('optional client certificates: a verified one is an identity, anything else is not', async (t) => {
  const { gw, port } = await gateway(false);
  t.teardown(() => gw.close());
  const as = (c: Client | null, path: string, headers: Record<string, string> = {}) =>
    h1Request(port, path, { ca: serverCa.pem, ...(c ?? {}), headers });

  const before = up.received.length;
  const ok = await as(clients.alice, '/any', { 'x-client-subject': 'CN=mallory' });
  t.equal(ok.status, 200);
  const rec = up.received[before]!;
  t.equal(rec.headers['x-client-subject'], 'O=Acme\\, Inc,CN=alice', 'RFC 4514 subject; the spoofed copy is gone');
  t.equal(rec.headers['x-client-uri'], 'spiffe://example.test/alice');
  t.equal(rec.headers['x-client-cn'], 'alice');
  t.equal(rec.headers['x-user'], 'O=Acme\\, Inc,CN=alice', 'certificate-only auth: sub is the subject');
  const id = ok.headers['x-request-id'];
  t.ok(await eventually(() => gw.access().some((l) => l['requestId'] === id)));
  t.equal(gw.access().find((l) => l['requestId'] === id)!['sub'], 'O=Acme\\, Inc,CN=alice');

  for (const [name, c] of [['none', null], ['expired', clients.expired], ['self-signed', clients.selfSigned], ['wrong CA', clients.wrongCa]] as const) {
    const res = await as(c, '/any');
    t.equal(res.status, 403, `${name}: refused`);
    t.equal(JSON.parse(res.body).error, 'client_certificate_required', name);
  }
  t.equal(up.received.length, before + 1, 'none of them reached the upstream');
  t.match(await gw.metrics.registry.metrics(), /portcullis_auth_failures_total\{provider="clientCert",reason="missing"\} 4/);
});

void t.test('route rules: subjects (order-free attributes) and SANs', async (t) => {
  const { gw, port } = await gateway(false);
  t.teardown(() => gw.close());
  const alice = await h2Connect(port, { ca: serverCa.pem, ...clients.alice });
  const bob = await h2Connect(port, { ca: serverCa.pem, ...clients.bob });
  t.teardown(() => { alice.close(); bob.close(); });
  t.equal((await h2Request(alice, '/alice')).status, 200);
  const refused = await h2Request(bob, '/alice');
  t.equal(refused.status, 403);
  t.equal(JSON.parse(refused.body).error, 'client_certificate_not_allowed');
  t.equal((await h2Request(bob, '/bob')).status, 200);
  t.equal((await h2Request(alice, '/bob')).status, 403);
  // A token is required on top when the route names token requirements.
  const both = await h2Request(alice, '/both');
  t.equal(both.status, 401);
  t.match(both.headers['www-authenticate'], /^Bearer realm="portcullis"/);
});

void t.test('cert.* identity headers read the certificate only, and only a verified one', async (t) => {
  const { gw, port } = await gateway(false);
  t.teardown(() => gw.close());
  const before = up.received.length;
  t.equal((await h1Request(port, '/public', { ca: serverCa.pem, ...clients.bob })).status, 200);
  t.equal(up.received[before]!.headers['x-client-subject'], 'O=Other,CN=bob');
  t.equal((await h1Request(port, '/public', { ca: serverCa.pem, ...clients.selfSigned, headers: { 'x-client-subject': 'O=Acme,CN=alice' } })).status, 200);
  t.equal(up.received[before + 1]!.headers['x-client-subject'], undefined, 'unverified: no header, spoofed copy removed');
  t.equal((await fetch(`${gw.url}/public`, { headers: { 'x-client-subject': 'CN=alice' } })).status, 200);
  t.equal(up.received[before + 2]!.headers['x-client-subject'], undefined, 'plain HTTP: none either');
});

void t.test('rate-limit key cert: one bucket per certificate subject', async (t) => {
  const { gw, port } = await gateway(false);
  t.teardown(() => gw.close());
  const statuses = async (c: Client) => {
    const out: number[] = [];
    for (let i = 0; i < 3; i++) out.push((await h1Request(port, '/limited', { ca: serverCa.pem, ...c })).status);
    return out;
  };
  t.same(await statuses(clients.alice), [200, 200, 429]);
  t.same(await statuses(clients.bob), [200, 200, 429], 'bob has his own bucket on the same address');
});

void t.test('requireClientCert: the handshake itself refuses missing, expired, self-signed and wrong-CA certificates', async (t) => {
  const { gw, port } = await gateway(true);
  t.teardown(() => gw.close());
  const before = up.received.length;
  for (const [name, c] of [['none', null], ['expired', clients.expired], ['self-signed', clients.selfSigned], ['wrong CA', clients.wrongCa]] as const) {
    await t.rejects(h1Request(port, '/public', { ca: serverCa.pem, ...(c ?? {}) }), `${name}: no HTTP exchange`);
    await t.rejects(h2Connect(port, { ca: serverCa.pem, ...(c ?? {}) }).then((s) => h2Request(s, '/public').finally(() => s.close())), `${name} (h2)`);
  }
  t.equal(up.received.length, before, 'nothing reached the upstream');
  const ok = await h1Request(port, '/public', { ca: serverCa.pem, ...clients.alice });
  t.equal(ok.status, 200, 'a verified certificate passes');
  t.match(await gw.metrics.registry.metrics(), /portcullis_tls_handshake_failures_total\{reason="client_certificate"\} [1-9]/);
});
