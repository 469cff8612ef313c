/**
 * Verifying a proof's signature with its own embedded key (RFC 9449 §4.3 check 6).
 *
 * node:crypto's synchronous `verify` with an imported KeyObject, not jose's compactVerify: jose
 * goes through WebCrypto, whose promise and job hand-off cost about 2.5× the CPU of the
 * signature itself for ES256 on the bench machine (docs/dpop.md, "Cost"), and a proof is new on
 * every request. jose stays the verifier of the access token (../provider.ts), which is cached.
 * What the header established (key imported, thumbprint computed) is kept per header (ProofHeaders).
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

/** What a proof's protected header established once: its algorithm, key and the key's thumbprint. */
export interface ProofHeader {
  readonly alg: string;
  readonly thumbprint: string;
  readonly key: KeyObject;
}

/**
 * Imports the embedded key for `alg`: null when the key does not suit the algorithm (an RSA key
 * under ES256, a P-384 key under ES256, an RSA modulus under 2048 bits) or cannot be imported.
 * Only the RFC 7638 members are used: `alg`, `use`, `kid` … of a client's JWK are not ours to read.
 */
export function importProofKey(alg: string, jwk: Readonly<Record<string, unknown>>): KeyObject | null {
  const spec = SPECS[alg];
  if (spec === undefined || jwk['kty'] !== spec.kty || (spec.crv !== null && jwk['crv'] !== spec.crv)) return null;
  let key: KeyObject;
  try {
    const members = jwk['kty'] === 'RSA' ? { kty: 'RSA', n: jwk['n'], e: jwk['e'] } : { kty: jwk['kty'], crv: jwk['crv'], x: jwk['x'], y: jwk['y'] };
    key = createPublicKey({ key: members as never, format: 'jwk' });
  } catch {
    return null;
  }
  if (spec.kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return null;
  return key;
}

/** Whether `signature` over `signingInput` verifies under the header's algorithm and key. */
export function verifySignature(head: ProofHeader, signingInput: string, signature: Buffer): boolean {
  const spec = SPECS[head.alg]!;
  const es = ES_SIGNATURE_BYTES[head.alg];
  if (es !== undefined && signature.length !== es) return false;
  const key = head.key;
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

/** Longest protected header kept in the cache: a large one is checked anew each time rather than held. */
const MAX_CACHED_HEADER_CHARS = 2048;

/**
 * Checked protected headers, keyed by their exact base64url text (bounded, least recently used
 * evicted). A client signs every proof with the same key and the same header, so a header seen
 * before skips its JSON parse, the jwk checks, the thumbprint and the key import: only the
 * signature and the claims are left per request. Only headers that passed every check are kept.
 */
export class ProofHeaders {
  readonly #cache: ExpiringLru<ProofHeader> | null;

  constructor(maxEntries: number) {
    this.#cache = maxEntries > 0 ? new ExpiringLru(maxEntries) : null;
  }

  get size(): number {
    return this.#cache?.size ?? 0;
  }

  get(segment: string): ProofHeader | null {
    return this.#cache === null ? null : this.#cache.get(segment, 0);
  }

  set(segment: string, head: ProofHeader): void {
    if (segment.length <= MAX_CACHED_HEADER_CHARS) this.#cache?.set(segment, head, FOREVER, 0);
  }
}
