/**
 * DPoP proofs (RFC 9449 §4.2) for the tests, signed with node:crypto by helpers/idp.ts's signJws
 * (an implementation independent of the gateway's verifier), and key thumbprints computed with
 * jose's calculateJwkThumbprint (independent of src/auth/dpop/thumbprint.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { nowSec, signJws, type TestKey } from './idp.js';

/** The RFC 7638 members of a test key's public JWK (no kid, alg, use). */
export function publicJwk(key: TestKey): Record<string, unknown> {
  const j = key.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return j;
}

export function jkt(key: TestKey): Promise<string> {
  return calculateJwkThumbprint(publicJwk(key) as JWK, 'sha256');
}

export function ath(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export interface ProofOptions {
  readonly htm?: string;
  readonly htu: string;
  /** The access token the proof goes with (ath); null leaves ath out. */
  readonly token: string | null;
  readonly iat?: number;
  readonly jti?: string;
  readonly nonce?: string;
  /** Replaces or adds header members (typ, alg, jwk …); a member set to undefined is removed. */
  readonly header?: Record<string, unknown>;
  readonly claims?: Record<string, unknown>;
}

export function proof(key: TestKey, o: ProofOptions, signWith: TestKey | Buffer | string = key): string {
  const header: Record<string, unknown> = { typ: 'dpop+jwt', alg: key.alg, jwk: publicJwk(key), ...o.header };
  for (const k of Object.keys(header)) if (header[k] === undefined) delete header[k];
  const claims: Record<string, unknown> = {
    jti: o.jti ?? randomUUID(), htm: o.htm ?? 'GET', htu: o.htu, iat: o.iat ?? nowSec(),
    ...(o.token === null ? {} : { ath: ath(o.token) }),
    ...(o.nonce === undefined ? {} : { nonce: o.nonce }),
    ...o.claims,
  };
  const secret = typeof signWith === 'string' || Buffer.isBuffer(signWith) ? signWith : signWith.privateKey;
  return signJws(header, claims, secret);
}
