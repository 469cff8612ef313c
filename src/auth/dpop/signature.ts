/**
 * Verifying a proof's signature with its own embedded key (RFC 9449 §4.3 check 6).
 *
 * node:crypto's synchronous `verify` with an imported KeyObject, not jose's compactVerify: jose
 * goes through WebCrypto, whose promise and job hand-off cost about 2.5× the CPU of the
 * signature itself for ES256 on the bench machine (docs/dpop.md, "Cost"), and a proof is new on
 * every request. jose stays the verifier of the access token (../provider.ts), which is cached.
 * Imported keys are kept per RFC 7638 thumbprint (bounded, least recently used evicted): a client
 * signs every proof with the same key, so the import (parsing, curve checks) happens once.
 */
import { createPublicKey, verify, constants, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto';
import { ExpiringLru } from '../expiring-lru.js';

interface AlgSpec {
  /** The digest, or null for EdDSA (the digest is part of the algorithm). */
  readonly digest: string | null;
  /** The key type the algorithm needs (RFC 7518 §3.1, RFC 8037 §3.1). */
  readonly kty: string;
  /** The curve, for EC and OKP. */
  readonly crv: string | null;
  /** PS*: RSASSA-PSS with the salt as long as the digest (RFC 7518 §3.5). */
  readonly pssSaltBytes: number;
}

const SPECS: Readonly<Record<string, AlgSpec>> = {
  ES256: { digest: 'sha256', kty: 'EC', crv: 'P-256', pssSaltBytes: 0 },
  ES384: { digest: 'sha384', kty: 'EC', crv: 'P-384', pssSaltBytes: 0 },
  ES512: { digest: 'sha512', kty: 'EC', crv: 'P-521', pssSaltBytes: 0 },
  RS256: { digest: 'sha256', kty: 'RSA', crv: null, pssSaltBytes: 0 },
  RS384: { digest: 'sha384', kty: 'RSA', crv: null, pssSaltBytes: 0 },
  RS512: { digest: 'sha512', kty: 'RSA', crv: null, pssSaltBytes: 0 },
  PS256: { digest: 'sha256', kty: 'RSA', crv: null, pssSaltBytes: 32 },
  PS384: { digest: 'sha384', kty: 'RSA', crv: null, pssSaltBytes: 48 },
  PS512: { digest: 'sha512', kty: 'RSA', crv: null, pssSaltBytes: 64 },
  EdDSA: { digest: null, kty: 'OKP', crv: 'Ed25519', pssSaltBytes: 0 },
};

/** RFC 7518 §3.4: an ES* signature is R || S, each as long as the curve's order. */
const ES_SIGNATURE_BYTES: Readonly<Record<string, number>> = { ES256: 64, ES384: 96, ES512: 132 };
/** Shortest RSA modulus accepted: RFC 7518 §3.3 asks for 2048 bits. */
const MIN_RSA_BITS = 2048;

/** Keys live as long as the cache holds them: a public key does not expire. */
const FOREVER = Number.POSITIVE_INFINITY;

export class ProofKeys {
  readonly #cache: ExpiringLru<KeyObject> | null;

  constructor(maxEntries: number) {
    this.#cache = maxEntries > 0 ? new ExpiringLru(maxEntries) : null;
  }

  get size(): number {
    return this.#cache?.size ?? 0;
  }

  /**
   * Whether `signature` over `signingInput` verifies with `jwk` under `alg`; false too when the
   * key does not suit the algorithm (an RSA key under ES256, a P-384 key under ES256, a short
   * RSA key) or cannot be imported. `alg` is one of the allowlisted names (schema enum).
   */
  verify(alg: string, jwk: Readonly<Record<string, unknown>>, thumbprint: string, signingInput: string, signature: Buffer): boolean {
    const spec = SPECS[alg];
    if (spec === undefined || jwk['kty'] !== spec.kty || (spec.crv !== null && jwk['crv'] !== spec.crv)) return false;
    const es = ES_SIGNATURE_BYTES[alg];
    if (es !== undefined && signature.length !== es) return false;
    const key = this.#key(jwk, thumbprint);
    if (key === null) return false;
    if (spec.kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return false;
    const input: VerifyKeyObjectInput = es !== undefined
      ? { key, dsaEncoding: 'ieee-p1363' }
      : spec.pssSaltBytes > 0 ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.pssSaltBytes } : { key };
    try {
      return verify(spec.digest, Buffer.from(signingInput, 'latin1'), input, signature);
    } catch {
      // OpenSSL refusing the input (a malformed signature for the key): not a valid proof.
      return false;
    }
  }

  #key(jwk: Readonly<Record<string, unknown>>, thumbprint: string): KeyObject | null {
    const cached = this.#cache?.get(thumbprint, 0);
    if (cached !== undefined && cached !== null) return cached;
    let key: KeyObject;
    try {
      // Only the RFC 7638 members: `alg`, `use`, `kid` … of a client's JWK are none of our business.
      const members = jwk['kty'] === 'RSA' ? { kty: 'RSA', n: jwk['n'], e: jwk['e'] } : { kty: jwk['kty'], crv: jwk['crv'], x: jwk['x'], y: jwk['y'] };
      key = createPublicKey({ key: members as never, format: 'jwk' });
    } catch {
      return null;
    }
    this.#cache?.set(thumbprint, key, FOREVER, 0);
    return key;
  }
}
