/**
 * An immutable set of verification keys, imported once per JWKS change.
 *
 * Each JWK is imported separately for every algorithm its key type can
 * serve (RFC 7518 §3.3–3.5, RFC 8037 §3.1), so at request time a key is
 * looked up by (kid, alg) and can only ever be used with a matching
 * algorithm: an RSA key never verifies ES256, a P-384 key never ES256, and
 * no key from a JWKS ever verifies HS* (RFC 8725 §3.1, the key-confusion
 * attack) — symmetric keys come only from a provider's configured secret.
 */
import { importJWK, type CryptoKey } from 'jose';

/** What jose verifies with: a WebCrypto key, or the HMAC secret bytes. */
export type VerifyKey = CryptoKey | Uint8Array;

/** Bounds a JWKS: real ones hold a handful of keys during a rotation. */
export const MAX_JWKS_KEYS = 100;
/** A token without `kid` is tried against at most this many keys of its algorithm. */
export const MAX_KIDLESS_CANDIDATES = 4;
/** RFC 7518 §3.3: RSA keys of 2048 bits or more. */
const MIN_RSA_BITS = 2048;

const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;
/** RFC 7518 §3.4: each ES* algorithm is bound to one curve. */
const EC_ALGS: Readonly<Record<string, string>> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };
/** HMAC key sizes in bytes: at least the hash output (RFC 7518 §3.2). */
export const HS_MIN_SECRET_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };

export type KeyLookup = readonly VerifyKey[] | 'unknown_kid' | 'alg_not_allowed';

/** A key the import skipped, for the log line that says why. */
export interface SkippedKey {
  readonly kid: string | null;
  readonly why: string;
}

export class KeySet {
  /** kid → alg → [key] (one-element arrays, built once, so lookups allocate nothing). */
  readonly #byKid: ReadonlyMap<string, ReadonlyMap<string, readonly VerifyKey[]>>;
  /** alg → keys, for tokens without `kid` (RFC 7515 §4.1.4: kid is optional). */
  readonly #byAlg: ReadonlyMap<string, readonly VerifyKey[]>;
  readonly kids: readonly string[];
  readonly size: number;

  constructor(byKid: Map<string, Map<string, readonly VerifyKey[]>>, byAlg: Map<string, VerifyKey[]>, size: number) {
    this.#byKid = byKid;
    const capped = new Map<string, readonly VerifyKey[]>();
    for (const [alg, keys] of byAlg) capped.set(alg, Object.freeze(keys.slice(0, MAX_KIDLESS_CANDIDATES)));
    this.#byAlg = capped;
    this.kids = Object.freeze([...byKid.keys()]);
    this.size = size;
  }

  /** Keys that may verify a token with this kid and alg. `ignoreKid` for a single shared secret. */
  lookup(kid: string | undefined, alg: string, ignoreKid = false): KeyLookup {
    if (kid === undefined || ignoreKid) return this.#byAlg.get(alg) ?? 'unknown_kid';
    const algs = this.#byKid.get(kid);
    if (algs === undefined) return 'unknown_kid';
    return algs.get(alg) ?? 'alg_not_allowed';
  }
}

/** The algorithms a public JWK may verify, from its key type and curve alone; [] when none. */
function algorithmsFor(jwk: Record<string, unknown>): readonly string[] {
  if (jwk['kty'] === 'RSA') return RSA_ALGS;
  if (jwk['kty'] === 'EC' && typeof jwk['crv'] === 'string') {
    const alg = EC_ALGS[jwk['crv']];
    return alg === undefined ? [] : [alg];
  }
  if (jwk['kty'] === 'OKP' && jwk['crv'] === 'Ed25519') return ['EdDSA'];
  return [];
}

/** Only the public members of the key type: a stray `key_ops: ["sign"]` or `ext` must not break the import. */
function publicMembers(jwk: Record<string, unknown>): Record<string, unknown> {
  const { kty, n, e, crv, x, y } = jwk;
  if (kty === 'RSA') return { kty, n, e };
  if (kty === 'EC') return { kty, crv, x, y };
  return { kty, crv, x };
}

function rsaModulusBits(n: unknown): number {
  if (typeof n !== 'string') return 0;
  const bytes = Buffer.from(n, 'base64url');
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  return (bytes.length - i) * 8;
}

/** Why a JWK cannot be used for signature verification, or null when it can. */
function unusable(jwk: Record<string, unknown>): string | null {
  if (jwk['use'] !== undefined && jwk['use'] !== 'sig') return 'use is not "sig"';
  const ops = jwk['key_ops'];
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) return 'key_ops lacks "verify"';
  if (jwk['kty'] === 'oct') return 'symmetric keys are never taken from a JWKS';
  if (jwk['d'] !== undefined) return 'contains private key material';
  if (jwk['kty'] === 'RSA' && rsaModulusBits(jwk['n']) < MIN_RSA_BITS) return `RSA key shorter than ${MIN_RSA_BITS} bits`;
  return null;
}

/**
 * Imports a JWKS document (RFC 7517 §5). Keys that cannot verify signatures are skipped and
 * reported; a document with no usable key at all is an error, so that a broken or empty JWKS
 * never replaces keys that work (stale-if-error).
 */
export async function importJwks(doc: unknown, skipped: SkippedKey[] = []): Promise<KeySet> {
  const keys = doc !== null && typeof doc === 'object' ? (doc as Record<string, unknown>)['keys'] : undefined;
  if (!Array.isArray(keys)) throw new Error('JWKS has no "keys" array');
  if (keys.length > MAX_JWKS_KEYS) throw new Error(`JWKS has ${keys.length} keys (at most ${MAX_JWKS_KEYS})`);
  const byKid = new Map<string, Map<string, readonly VerifyKey[]>>();
  const byAlg = new Map<string, VerifyKey[]>();
  let size = 0;
  for (const raw of keys) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      skipped.push({ kid: null, why: 'not a JSON object' });
      continue;
    }
    const jwk = raw as Record<string, unknown>;
    const kid = typeof jwk['kid'] === 'string' && jwk['kid'] !== '' ? jwk['kid'] : null;
    const why = unusable(jwk) ?? (kid !== null && byKid.has(kid) ? 'duplicate kid' : null);
    let algs = algorithmsFor(jwk);
    // RFC 7517 §4.4: a JWK that names its `alg` is used with that algorithm only.
    if (typeof jwk['alg'] === 'string') algs = algs.includes(jwk['alg']) ? [jwk['alg']] : [];
    if (why !== null || algs.length === 0) {
      skipped.push({ kid, why: why ?? 'key type, curve or alg not usable for signatures' });
      continue;
    }
    const perAlg = new Map<string, readonly VerifyKey[]>();
    try {
      for (const alg of algs) perAlg.set(alg, Object.freeze([await importJWK(publicMembers(jwk), alg)]));
    } catch (err) {
      skipped.push({ kid, why: `import failed: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    // Committed only once every algorithm imported: a half-imported key is not a key.
    for (const [alg, [key]] of perAlg) {
      const list = byAlg.get(alg);
      if (list === undefined) byAlg.set(alg, [key!]);
      else list.push(key!);
    }
    if (kid !== null) byKid.set(kid, perAlg);
    size++;
  }
  if (size === 0) throw new Error(`JWKS has no usable signing key (${skipped.length} skipped)`);
  return new KeySet(byKid, byAlg, size);
}

/** The one key of an HS* provider: its configured secret, for its configured HS* algorithms only. */
export function secretKeySet(secret: string, algorithms: readonly string[]): KeySet {
  const bytes = new TextEncoder().encode(secret);
  const byAlg = new Map<string, VerifyKey[]>();
  for (const alg of algorithms) if (HS_MIN_SECRET_BYTES[alg] !== undefined) byAlg.set(alg, [bytes]);
  return new KeySet(new Map(), byAlg, 1);
}
