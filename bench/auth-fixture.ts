// The tokens of the bench: an RS256 key pair made for the run, its JWKS in the work dir (read by
// the gateway as a jwksFile, so no IdP process competes for the CPUs), one token sent by every
// request of most rows, and 10,000 distinct ones for the rotation row. With the verified-token
// cache a signature is checked once per token; without it, on every request — the pipeline's
// dominant CPU cost (issue 3 §7).
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadSpec } from './load.js';

export const ISSUER = 'https://bench.portcullis.invalid';
const KID = 'bench-rs256';

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

export class AuthFixture {
  /**
   * The request every row of the comparison sends, the baseline's included, so that every row
   * moves the same bytes: a realistic API call with a query for the WAF to read, a browser-like
   * User-Agent and the bearer token. Filled by prepare(); run.ts reads a scenario's load after
   * starting it.
   */
  readonly load: LoadSpec = {
    method: 'GET',
    path: '/api/v1/orders?limit=10&status=open',
    headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) portcullis-bench/1.0', accept: 'application/json' },
  };
  #jwksPath = '';
  #privateKey: KeyObject | null = null;
  #many: string[] = [];

  /** Writes the JWKS and mints the token (once per run). */
  async prepare(workDir: string): Promise<void> {
    if (this.#jwksPath !== '') return;
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.#jwksPath = join(workDir, 'bench-jwks.json');
    await writeFile(this.#jwksPath, JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' }] }));
    this.#privateKey = privateKey;
    this.load.headers!['authorization'] = `Bearer ${this.mint('bench-user')}`;
  }

  /** An RS256 token for `sub`, valid for a day, signed with the run's key (after prepare()). */
  mint(sub: string, scope = 'bench:read'): string {
    if (this.#privateKey === null) throw new Error('AuthFixture.prepare() first');
    const now = Math.floor(Date.now() / 1000);
    const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: KID }))}.${b64url(JSON.stringify({
      iss: ISSUER, sub, aud: 'bench', scope, iat: now, exp: now + 24 * 3600,
    }))}`;
    return `${input}.${b64url(sign('sha256', Buffer.from(input), this.#privateKey))}`;
  }

  /** `count` distinct tokens (sub bench-user-0 …), minted once per run and kept for later rows. */
  many(count: number): readonly string[] {
    for (let i = this.#many.length; i < count; i++) this.#many.push(this.mint(`bench-user-${i}`));
    return this.#many;
  }

  /** The run's public key as a PEM (SPKI), for the fastify reference row. */
  publicKeyPem(): string {
    if (this.#privateKey === null) throw new Error('AuthFixture.prepare() first');
    return createPublicKey(this.#privateKey).export({ format: 'pem', type: 'spki' }).toString();
  }

  /** The `auth:` section for a gateway config: the run's provider (a jwksFile) and the token cache size. */
  authYaml(tokenCacheEntries: number): string[] {
    return [
      'auth:',
      `  providers: [{ name: bench, issuer: "${ISSUER}", jwksFile: "${this.#jwksPath}", audiences: [bench], algorithms: [RS256] }]`,
      `  tokenCache: { maxEntries: ${tokenCacheEntries} }`,
    ];
  }
}

/** One fixture for the whole run: the key pair, the JWKS file and the tokens are made once. */
export const authFixture = new AuthFixture();
