// Identity-token and certificate-binding micro benchmark (issue 20 items 2, 3): the compiled
// stages in a loop, no sockets. Each figure is µs per request:
//   - identity token, cached: the same caller again within ttlSec/2 (the common case);
//   - identity token, signed: a new caller every time (what a cache miss costs), ES256 and EdDSA;
//   - cert binding: the cnf["x5t#S256"] check against a forwarded XFCC header (cached parse) and
//     the parse itself (first request of a certificate).
//
//   npm run build && node dist/bench/identity-token-micro.js     (IDTOK_MICRO_MS=1500 per figure)
import { generateKeyPairSync, createHash, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RequestCtx } from '../src/pipeline/context.js';
import type { Identity } from '../src/contract/types.js';
import { IdentityKeys, loadSigningKey, type SigningKey } from '../src/identity-token/keys.js';
import { IdentityTokenStage } from '../src/identity-token/stage.js';
import { CertBinding } from '../src/auth/cert-bound.js';
import { ForwardedCertHeader, thumbprintOfXfcc } from '../src/auth/forwarded-cert.js';
import { GatewayMetrics } from '../src/observe/metrics.js';

const RUN_MS = Number(process.env['IDTOK_MICRO_MS'] ?? 1500);

async function time(fn: () => unknown): Promise<number> {
  const batch = 100;
  for (let i = 0; i < 500; i++) await fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < RUN_MS) {
    for (let i = 0; i < batch; i++) await fn();
    calls += batch;
    now = performance.now();
  }
  return ((now - start) * 1000) / calls;
}

function key(alg: 'ES256' | 'EdDSA'): SigningKey {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  const k = loadSigningKey({ kid: alg, alg, pem: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string });
  if (typeof k === 'string') throw new Error(k);
  return k;
}

const ctx = (identity: Identity | null, headers: Record<string, string> = {}): RequestCtx => {
  const c = new RequestCtx('micro', '192.0.2.1', 'edge', 'GET', 'api.test', '/orders', '', 'https', headers, 0n);
  c.identity = identity;
  return c;
};
const who = (sub: string): Identity => ({ provider: 'idp', sub, claims: { iss: 'https://idp.test', sub, email: `${sub}@example.test`, scope: 'orders:read', exp: Math.floor(Date.now() / 1000) + 3600 } });

const rows: [string, number][] = [];
for (const alg of ['ES256', 'EdDSA'] as const) {
  const keys = new IdentityKeys('https://gateway.test', [key(alg)], alg, 300);
  const stage = new IdentityTokenStage({ header: 'x-portcullis-identity', ttlSec: 60, claims: ['email', 'scope'], audience: 'orders' }, keys);
  const same = who('alice');
  rows.push([`identity token ${alg}, cached (same caller)`, await time(() => stage.handle(ctx(same)))]);
  let n = 0;
  rows.push([`identity token ${alg}, signed (new caller)`, await time(() => stage.handle(ctx(who(`u${n++}`))))]);
}

// A client certificate for the binding rows, made with openssl as the tests do.
const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
try {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-subj', '/CN=bench', '-days', '1'], { stdio: 'ignore' });
  const pem = readFileSync(join(dir, 'c.pem'), 'utf8');
  const der = new X509Certificate(pem).raw;
  const xfcc = `Hash=${createHash('sha256').update(der).digest('hex')};Cert="${encodeURIComponent(pem)}"`;
  const thumbprint = createHash('sha256').update(der).digest('base64url');
  const binding = new CertBinding({ required: false, forwarded: new ForwardedCertHeader('x-forwarded-client-cert', 'xfcc') }, 'bench', new GatewayMetrics({ defaultMetrics: false }));
  const bound: Identity = { provider: 'idp', sub: 'batch', claims: { sub: 'batch', cnf: { 'x5t#S256': thumbprint } } };
  const c = ctx(bound, { 'x-forwarded-client-cert': xfcc });
  (c as { peerTrusted: boolean }).peerTrusted = true;
  if (binding.check(c).kind !== 'continue') throw new Error('bench binding refused');
  rows.push(['cert binding, forwarded XFCC (parse cached)', await time(() => binding.check(c))]);
  rows.push(['XFCC parse + SHA-256 (first request of a cert)', await time(() => thumbprintOfXfcc(xfcc))]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

for (const [name, us] of rows) console.log(`${name.padEnd(48)} ${us.toFixed(2).padStart(8)} µs/request`);
