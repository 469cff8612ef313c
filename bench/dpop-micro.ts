// DPoP micro benchmark (issue 20 item 5): the cost the DPoP check adds to a request whose access
// token is already in the verified-token cache — proof parsing, the checks of RFC 9449 §4.3, the
// RFC 7638 thumbprint, the cached imported key, the signature, ath, and the in-memory jti set —
// with no sockets. Figures are CPU µs per request (process.cpuUsage, so a loaded machine's
// waiting does not count), beside the bare signature verification of the same proofs with
// node:crypto and with jose's compactVerify (what the check would cost through WebCrypto).
//
//   npm run build && node dist/bench/dpop-micro.js          (DPOP_MICRO_N=4000 proofs per algorithm)
import { createHash, generateKeyPairSync, randomUUID, sign, constants, verify, type KeyObject } from 'node:crypto';
import { compactVerify } from 'jose';
import pino from 'pino';
import { RequestCtx } from '../src/pipeline/context.js';
import { CompiledDpop } from '../src/auth/dpop/compile.js';
import { jwkThumbprint } from '../src/auth/dpop/thumbprint.js';

const N = Number(process.env['DPOP_MICRO_N'] ?? 4000);
const ALGS = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;
type Alg = (typeof ALGS)[number];

function pair(alg: Alg): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519');
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

const b64 = (v: object | Buffer): string => (Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v))).toString('base64url');

function signProof(alg: Alg, key: KeyObject, jwk: object, claims: object): string {
  const input = `${b64({ typ: 'dpop+jwt', alg, jwk })}.${b64(claims)}`;
  const data = Buffer.from(input);
  const sig = alg === 'ES256' ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })
    : alg === 'EdDSA' ? sign(null, data, key)
      : alg === 'PS256' ? sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
        : sign('sha256', data, key);
  return `${input}.${b64(sig)}`;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function main(): Promise<void> {
  const logger = pino({ level: 'silent' });
  const dpop = new CompiledDpop(undefined, [{ name: 'corp', dpop: 'required' } as never], {
    realm: 'bench', redis: null, failOpen: true, logger, count: () => undefined,
  });
  // Large enough for every proof of the run: the set must not fill up and answer 503.
  const check = dpop.forRoute(undefined, null)!;
  const token = 'eyJhbGciOiJSUzI1NiJ9.' + 'x'.repeat(600) + '.sig';
  const ath = createHash('sha256').update(token).digest('base64url');
  console.log(`DPoP check per request, token cached, key cached (CPU µs; N=${N} proofs per row; node ${process.version})`);
  console.log('alg     check  verify(node:crypto)  check-minus-signature  jose compactVerify');
  for (const alg of ALGS) {
    const { privateKey, publicKey } = pair(alg);
    const jwk = publicKey.export({ format: 'jwk' });
    const jkt = jwkThumbprint(jwk as Record<string, unknown>);
    const now = Math.floor(Date.now() / 1000);
    const proofs: string[] = [];
    for (let i = 0; i < N; i++) proofs.push(signProof(alg, privateKey, jwk, { jti: randomUUID(), htm: 'GET', htu: 'https://api.example.com/api/orders', iat: now, ath }));
    const headers: Record<string, string> = { host: 'api.example.com', authorization: `DPoP ${token}`, dpop: '' };
    const ctx = new RequestCtx('micro', '192.0.2.1', 'edge', 'GET', 'api.example.com', '/api/orders', '', 'https', headers, 0n);
    const claims = { cnf: { jkt } };
    // Warm-up on the first tenth (imports the key once, JIT); timed on the rest.
    const warm = Math.floor(N / 10);
    for (let i = 0; i < warm; i++) {
      headers['dpop'] = proofs[i]!;
      void check.check(ctx, token, true, 'corp', claims);
    }
    let refused = 0;
    const t0 = cpuUs();
    for (let i = warm; i < N; i++) {
      headers['dpop'] = proofs[i]!;
      const v = check.check(ctx, token, true, 'corp', claims);
      if (v instanceof Promise || v.kind !== 'continue') refused++;
    }
    const checkUs = (cpuUs() - t0) / (N - warm);
    if (refused > 0) throw new Error(`${alg}: ${refused} proofs refused`);
    const parts = proofs.map((p) => { const [h, c, s] = p.split('.'); return { data: Buffer.from(`${h}.${c}`), sig: Buffer.from(s!, 'base64url') }; });
    const opts = alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' as const }
      : alg === 'PS256' ? { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : { key: publicKey };
    const digest = alg === 'EdDSA' ? null : 'sha256';
    const t1 = cpuUs();
    for (let i = warm; i < N; i++) verify(digest, parts[i]!.data, opts, parts[i]!.sig);
    const verifyUs = (cpuUs() - t1) / (N - warm);
    const t2 = cpuUs();
    for (let i = warm; i < N; i++) await compactVerify(proofs[i]!, publicKey);
    const joseUs = (cpuUs() - t2) / (N - warm);
    console.log(`${alg.padEnd(7)} ${checkUs.toFixed(1).padStart(5)}  ${verifyUs.toFixed(1).padStart(19)}  ${(checkUs - verifyUs).toFixed(1).padStart(21)}  ${joseUs.toFixed(1).padStart(18)}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
