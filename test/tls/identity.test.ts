/**
 * Client-certificate identity pieces (issue 7): SAN text parsing, subject rules, the
 * certificate's claims, and the route stage against real certificates.
 */
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { canonicalSan, parseSubjectAltNames, VerifiedClientCert } from '../../src/tls/identity.js';
import { ClientCertStage, parseSubjectRule } from '../../src/tls/client-auth.js';
import { GatewayMetrics } from '../../src/observe/metrics.js';
import { RequestCtx } from '../../src/pipeline/context.js';
import { issue, makeCa, tempDir } from '../helpers/certs.js';

void t.test('subjectAltName text → TYPE:value list; quoted values cannot forge a second entry', async (t) => {
  t.same(parseSubjectAltNames('DNS:A.Example, IP Address:127.0.0.1, URI:spiffe://c/ns/a, email:a@b.c'), [
    'DNS:a.example', 'IP:127.0.0.1', 'URI:spiffe://c/ns/a', 'email:a@b.c',
  ]);
  // Node JSON-quotes values with commas or quotes (CVE-2021-44532).
  t.same(parseSubjectAltNames('URI:"http://x/a, DNS:evil.example", DNS:ok.example'), ['URI:http://x/a, DNS:evil.example', 'DNS:ok.example']);
  t.same(parseSubjectAltNames('IP Address:0:0:0:0:0:0:0:1'), ['IP:::1']);
  t.same(parseSubjectAltNames(undefined), []);
  t.equal(canonicalSan('IP', '2001:DB8:0:0:0:0:0:1'), 'IP:2001:db8::1');
});

void t.test('subject rules: ATTR=value pairs, escaped commas, case-insensitive names', async (t) => {
  t.same(parseSubjectRule('cn=alice, O=Acme\\, Inc'), [['CN', 'alice'], ['O', 'Acme, Inc']]);
  t.same(parseSubjectRule(' CN = alice '), [['CN', 'alice']]);
  t.equal(typeof parseSubjectRule('CN='), 'string');
  t.equal(typeof parseSubjectRule('alice'), 'string');
  t.equal(typeof parseSubjectRule('CN=a,,O=b'), 'string');
});

void t.test('a certificate as identity, and the route stage deciding on it', async (t) => {
  const dir = await tempDir(t);
  const ca = await makeCa(dir, 'ca');
  const alice = new VerifiedClientCert(new X509Certificate((await issue(dir, 'a', ca, {
    subject: '/C=DE/O=Acme, Inc/OU=ops/OU=dev/CN=alice', sans: 'URI:spiffe://example.test/alice,DNS:Alice.Example.test,email:alice@example.test', usage: 'client',
  })).pem));
  t.equal(alice.subject, 'CN=alice,OU=dev,OU=ops,O=Acme\\, Inc,C=DE', 'RFC 4514: most specific first, escaped');
  t.same(alice.sans, ['URI:spiffe://example.test/alice', 'DNS:alice.example.test', 'email:alice@example.test']);
  t.match(alice.claims, { cert: { cn: 'alice', uri: ['spiffe://example.test/alice'], dns: ['alice.example.test'], email: ['alice@example.test'], ip: [], issuer: 'CN=ca test CA' } });
  t.match((alice.claims['cert'] as { fingerprint: string }).fingerprint, /^[0-9a-f]{64}$/);
  t.same(alice.identity, { provider: '', sub: alice.subject, claims: { sub: alice.subject, cert: alice.claims['cert'] } });

  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const ctx = (cert: VerifiedClientCert | null) => {
    const c = new RequestCtx('id', '192.0.2.1', 'edge', 'GET', 'h', '/', '', 'https', {}, 0n);
    c.clientCert = cert;
    return c;
  };
  const stage = (cfg: { subjects?: string[]; sans?: string[] }, withToken = false) => new ClientCertStage(cfg, withToken, metrics);
  t.equal(stage({}).handle(ctx(null)).kind, 'respond');
  t.match(stage({}).handle(ctx(null)), { status: 403, error: 'client_certificate_required', decision: 'unauthenticated' });
  t.equal(stage({}).handle(ctx(alice)).kind, 'continue');
  t.equal(stage({ subjects: ['O=Acme\\, Inc, CN=alice'] }).handle(ctx(alice)).kind, 'continue', 'attribute order does not matter');
  t.equal(stage({ subjects: ['OU=dev'] }).handle(ctx(alice)).kind, 'continue', 'any value of a repeated attribute');
  t.match(stage({ subjects: ['CN=alice, O=Acme'] }).handle(ctx(alice)), { status: 403, error: 'client_certificate_not_allowed' }, 'every listed attribute must match exactly');
  t.match(stage({ subjects: ['CN=Alice'] }).handle(ctx(alice)), { status: 403 }, 'values are case-sensitive');
  t.equal(stage({ sans: ['DNS:ALICE.example.test'] }).handle(ctx(alice)).kind, 'continue', 'DNS SANs compare case-insensitively');
  t.match(stage({ sans: ['URI:spiffe://example.test/bob'], subjects: ['CN=bob'] }).handle(ctx(alice)), { status: 403 });
  const cert = ctx(alice);
  stage({}).handle(cert);
  t.equal(cert.identity, alice.identity, 'certificate-only: the certificate is the identity');
  const both = ctx(alice);
  stage({}, true).handle(both);
  t.equal(both.identity, null, 'with token requirements the token stage sets the identity');
});
