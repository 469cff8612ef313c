// The full-auth rows: an RS256 key pair made for the run, its JWKS in the work dir (read by the
// gateway as a jwksFile, so no IdP process competes for the CPUs), and one token sent by every
// request. With the verified-token cache the signature is checked once; without it, on every
// request — the pipeline's dominant CPU cost (issue 3 §7).
import { generateKeyPairSync, sign } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadSpec } from './load.js';

const ISSUER = 'https://bench.portcullis.invalid';
const KID = 'bench-rs256';

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

export class AuthFixture {
  /** Filled by prepare(); run.ts reads a scenario's load after starting it. */
  readonly load: LoadSpec = { method: 'GET', path: '/', headers: {} };
  #jwksPath = '';

  /** Writes the JWKS and mints the token (once per run). */
  async prepare(workDir: string): Promise<void> {
    if (this.#jwksPath !== '') return;
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.#jwksPath = join(workDir, 'bench-jwks.json');
    await writeFile(this.#jwksPath, JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' }] }));
    const now = Math.floor(Date.now() / 1000);
    const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: KID }))}.${b64url(JSON.stringify({
      iss: ISSUER, sub: 'bench-user', aud: 'bench', scope: 'bench:read', iat: now, exp: now + 24 * 3600,
    }))}`;
    const token = `${input}.${b64url(sign('sha256', Buffer.from(input), privateKey))}`;
    this.load.headers!['authorization'] = `Bearer ${token}`;
  }

  /** One route, token required (scope checked, identity header set), to the upstream. */
  config(port: number, upstreamUrl: string, tokenCacheEntries: number): string {
    return [
      'server: { trustedProxies: [] }',
      'listeners:',
      `  http: { host: 127.0.0.1, port: ${port} }`,
      'auth:',
      `  providers: [{ name: bench, issuer: "${ISSUER}", jwksFile: "${this.#jwksPath}", audiences: [bench], algorithms: [RS256] }]`,
      `  tokenCache: { maxEntries: ${tokenCacheEntries} }`,
      'routes:',
      '  - name: bench',
      '    match: { path: / }',
      '    auth: { scopes: ["bench:read"] }',
      '    identityHeaders: { X-User-Id: sub }',
      `    upstream: ${upstreamUrl}`,
      '',
    ].join('\n');
  }
}
