/**
 * A real identity provider on 127.0.0.1 for the auth tests: OpenID discovery
 * (/.well-known/openid-configuration) and a JWKS (/jwks), with hit counters,
 * key rotation, and failure modes (HTTP 503, connection reset, no answer).
 *
 * Tokens are signed here with node:crypto directly, not with jose, so the
 * gateway's jose-based verification is checked against an independent
 * implementation — and so tests can produce tokens no library would sign
 * (alg none, HS256 keyed with a public key, forbidden headers, bad encodings).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants, createHmac, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';

export type TestAlg = 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA';

export interface TestKey {
  readonly kid: string;
  readonly alg: TestAlg;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public JWK as published (kid, alg, use added). */
  readonly jwk: Record<string, unknown>;
}

export function makeKey(alg: TestAlg, kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`): TestKey {
  const pair = alg === 'RS256' || alg === 'PS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'ES384' ? generateKeyPairSync('ec', { namedCurve: 'P-384' })
        : generateKeyPairSync('ed25519');
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return { kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey, jwk };
}

export function b64url(data: string | Buffer | object): string {
  if (Buffer.isBuffer(data)) return data.toString('base64url');
  return Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)).toString('base64url');
}

/** RFC 7515 §5.1 signing input signed with node:crypto, for any alg string; `key` is a secret for HS*. */
export function signJws(header: Record<string, unknown>, payload: Record<string, unknown> | string, key: KeyObject | Buffer | string): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  const alg = String(header['alg']);
  let sig: Buffer;
  if (typeof key === 'string' || Buffer.isBuffer(key)) sig = createHmac(`sha${alg.slice(2)}`, key).update(input).digest();
  else if (alg.startsWith('PS')) sig = sign(`sha${alg.slice(2)}`, Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 });
  else if (alg.startsWith('ES')) sig = sign(`sha${alg.slice(2)}`, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  else if (alg === 'EdDSA') sig = sign(null, Buffer.from(input), key);
  else sig = sign(`sha${alg.slice(2)}`, Buffer.from(input), key);
  return `${input}.${b64url(sig)}`;
}

export const nowSec = (): number => Math.floor(Date.now() / 1000);

export type IdpMode = 'up' | 'error' | 'reset' | 'hang';

export class TestIdp {
  readonly server: Server;
  readonly issuer: string;
  readonly jwksUri: string;
  readonly hits = { discovery: 0, jwks: 0 };
  mode: IdpMode = 'up';
  cacheControl: string | null = 'max-age=600';
  /** The `issuer` the discovery document claims; defaults to the real one. */
  discoveryIssuer: string | null = null;
  /** Keys published in the JWKS. */
  published: TestKey[];
  /** Raw JWKS body to serve instead of `published` (malformed or oversized documents). */
  rawJwks: string | null = null;

  private constructor(server: Server, keys: TestKey[]) {
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    this.issuer = `http://127.0.0.1:${port}`;
    this.jwksUri = `${this.issuer}/jwks`;
    this.published = keys;
  }

  static async start(keys: TestKey[]): Promise<TestIdp> {
    let idp: TestIdp | null = null;
    const server = createServer((req, res) => idp!.handle(req.url ?? '/', res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    idp = new TestIdp(server, keys);
    return idp;
  }

  private handle(url: string, res: import('node:http').ServerResponse): void {
    if (url === '/.well-known/openid-configuration') this.hits.discovery++;
    else if (url === '/jwks') this.hits.jwks++;
    if (this.mode === 'reset') return void res.socket?.destroy();
    if (this.mode === 'hang') return;
    if (this.mode === 'error') return void res.writeHead(503).end();
    let body: string;
    if (url === '/.well-known/openid-configuration') {
      body = JSON.stringify({ issuer: this.discoveryIssuer ?? this.issuer, jwks_uri: this.jwksUri, id_token_signing_alg_values_supported: ['RS256'] });
    } else if (url === '/jwks') {
      body = this.rawJwks ?? JSON.stringify({ keys: this.published.map((k) => k.jwk) });
    } else {
      return void res.writeHead(404).end();
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.cacheControl !== null) headers['cache-control'] = this.cacheControl;
    res.writeHead(200, headers).end(body);
  }

  /** A token from this issuer: `iss`, `sub`, `exp` (+5 min) and `iat` preset, `claims` override them. */
  token(key: TestKey, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
    return signJws({ alg: key.alg, typ: 'JWT', kid: key.kid, ...header }, { iss: this.issuer, sub: 'alice', iat: nowSec(), exp: nowSec() + 300, ...claims }, key.privateKey);
  }

  close(): Promise<void> {
    return new Promise((resolve) => { this.server.closeAllConnections(); this.server.close(() => resolve()); });
  }
}
