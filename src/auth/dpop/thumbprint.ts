/**
 * The proof's embedded `jwk` (RFC 9449 §4.2): a public key, nothing private, and its RFC 7638
 * SHA-256 thumbprint — what an access token's `cnf.jkt` names (RFC 9449 §6.1).
 *
 * Computed here, synchronously, rather than with jose's (asynchronous) calculateJwkThumbprint:
 * the thumbprint is the key cache's key and runs on every request. test/auth/dpop-proof.test.ts
 * checks that both give the same value for EC, RSA and OKP keys.
 */
import { hash } from 'node:crypto';

/** RFC 7638 §3.2: the required members of each key type, in lexicographic order. */
const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
};

/** Members that only a private (or symmetric) JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

export type JwkProblem = 'dpop_bad_jwk' | 'dpop_private_jwk';

/** Whether `jwk` is an object of a known key type with string required members and no private ones. */
export function publicJwkProblem(jwk: unknown): JwkProblem | null {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) return 'dpop_bad_jwk';
  const j = jwk as Record<string, unknown>;
  for (const m of PRIVATE_MEMBERS) if (j[m] !== undefined) return 'dpop_private_jwk';
  const kty = j['kty'];
  const required = typeof kty === 'string' ? REQUIRED[kty] : undefined;
  if (required === undefined) return 'dpop_bad_jwk';
  for (const m of required) if (typeof j[m] !== 'string' || j[m] === '') return 'dpop_bad_jwk';
  return null;
}

/** RFC 7638 §3: SHA-256 of the required members as compact JSON, base64url. `jwk` passed publicJwkProblem. */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string {
  const members = REQUIRED[jwk['kty'] as string]!;
  let json = '{';
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!;
    if (i > 0) json += ',';
    // JSON.stringify of a string: the exact escaping RFC 7638 §3.3 asks for (RFC 7159 §7).
    json += '"' + m + '":' + JSON.stringify(jwk[m]);
  }
  return hash('sha256', json + '}', 'base64url');
}
