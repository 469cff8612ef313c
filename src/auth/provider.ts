/**
 * One trusted issuer, compiled from `auth.providers[]`: which algorithms it
 * may use, where its keys are, and the registered claims its tokens must
 * satisfy (RFC 7519 §4.1, PRODUCT §1.7). `verify` is the only request-time
 * method; everything it compares against was prepared in the constructor.
 */
import { compactVerify, errors } from 'jose';
import type { ProviderConfig } from '../config/types.js';
import { compileClaimPath, readClaim, type ClaimPath } from '../contract/claims.js';
import { readScopes, SharedStringSets, VerifiedIdentity } from './identity.js';
import { normaliseTyp, type ParsedJwt } from './jwt.js';
import type { KeySet, VerifyKey } from './key-set.js';
import type { KeySource } from './key-store.js';
import type { InvalidTokenReason } from './responses.js';

/** A successful verification: the identity, and the key set it was verified with (for the token cache). */
export interface Verified {
  readonly identity: VerifiedIdentity;
  readonly keySet: KeySet;
}

export type VerifyResult = Verified | InvalidTokenReason | 'keys_unavailable';

/** Longest wait for a key refresh from a request, in ms: the fetch's own 5 s deadline plus slack. */
const REFRESH_WAIT_MS = 6_000;

export class Provider {
  readonly name: string;
  readonly issuer: string;
  readonly keys: KeySource;
  readonly #algorithms: ReadonlySet<string>;
  /** One frozen `[alg]` list per algorithm, handed to jose so it re-checks the header's alg. */
  readonly #joseOptions: ReadonlyMap<string, { readonly algorithms: string[] }>;
  readonly #audiences: ReadonlySet<string> | null;
  readonly #toleranceSec: number;
  readonly #rolesPath: ClaimPath;
  /** Scope and role sets shared by this provider's identities (identity.ts). */
  readonly #sets = new SharedStringSets();
  readonly #scopesPath: ClaimPath;
  /** An HS* provider has one secret; a `kid` in its tokens selects nothing. */
  readonly #ignoreKid: boolean;
  /** `requireTyp`, normalised (RFC 9068 §4: `at+jwt`); null accepts any typ or none. */
  readonly #typ: string | null;

  constructor(cfg: ProviderConfig, keys: KeySource) {
    this.name = cfg.name;
    this.issuer = cfg.issuer;
    this.keys = keys;
    this.#algorithms = new Set(cfg.algorithms);
    this.#joseOptions = new Map(cfg.algorithms.map((alg) => [alg, Object.freeze({ algorithms: [alg] })]));
    this.#audiences = cfg.audiences === undefined ? null : new Set(cfg.audiences);
    this.#toleranceSec = cfg.clockToleranceSec;
    this.#rolesPath = compileClaimPath(cfg.rolesClaim);
    this.#scopesPath = compileClaimPath(cfg.scopesClaim);
    this.#ignoreKid = cfg.secret !== undefined;
    this.#typ = cfg.requireTyp === undefined ? null : normaliseTyp(cfg.requireTyp);
  }

  /**
   * The identity of verified claims, with this provider's scope and role paths: for a JWT after
   * its checks, and for an RFC 7662 introspection response (introspection.ts) alike.
   */
  identityFrom(claims: Readonly<Record<string, unknown>>, expiresAtMs?: number): VerifiedIdentity {
    return new VerifiedIdentity(this.name, claims, readScopes(claims, this.#scopesPath, this.#sets), this.#sets.of(readClaim(claims, this.#rolesPath)), expiresAtMs);
  }

  async verify(jwt: ParsedJwt): Promise<VerifyResult> {
    // RFC 8725 §3.1: the algorithm is ours to choose, not the token's.
    if (!this.#algorithms.has(jwt.alg)) return 'alg_not_allowed';
    // RFC 9068 §4 / RFC 8725 §3.11: an ID token (typ JWT or none) is not an access token.
    if (this.#typ !== null && (jwt.typ === undefined || normaliseTyp(jwt.typ) !== this.#typ)) return 'wrong_typ';
    let keySet = this.keys.current();
    let found = keySet === null ? 'unknown_kid' : keySet.lookup(jwt.kid, jwt.alg, this.#ignoreKid);
    if (found === 'unknown_kid') {
      // Key rotation (or a first load still under way): one shared, cooldown-limited refetch.
      const refresh = this.keys.refreshForUnknownKid();
      if (refresh !== null) await withDeadline(refresh, REFRESH_WAIT_MS);
      keySet = this.keys.current();
      if (keySet === null) return 'keys_unavailable';
      found = keySet.lookup(jwt.kid, jwt.alg, this.#ignoreKid);
    }
    if (typeof found === 'string') return found;
    const signature = await this.#verifySignature(jwt, found);
    if (signature !== null) return signature;
    const claimsProblem = this.checkClaims(jwt.payload, Math.floor(Date.now() / 1000), false);
    if (claimsProblem !== null) return claimsProblem;
    return { identity: this.identityFrom(jwt.payload), keySet: keySet! };
  }

  /** null when one of the candidate keys verifies the signature (RFC 7515 §5.2). */
  async #verifySignature(jwt: ParsedJwt, candidates: readonly VerifyKey[]): Promise<InvalidTokenReason | null> {
    const options = this.#joseOptions.get(jwt.alg)!;
    for (const key of candidates) {
      try {
        await compactVerify(jwt.token, key, options);
        return null;
      } catch (err) {
        if (err instanceof errors.JWSSignatureVerificationFailed) continue;
        // jose's own checks (alg/key mismatch, encoding): the token is not a valid JWS for us.
        return 'malformed';
      }
    }
    return 'bad_signature';
  }

  /**
   * RFC 7519 §4.1 with PRODUCT §1.7's rules: exp required; nbf/iat not in the future; aud when
   * configured. `introspected`: the members of an RFC 7662 §2.2 response, where iss and exp are
   * optional (checked when present) — the authorisation server has vouched for the token.
   */
  checkClaims(payload: Readonly<Record<string, unknown>>, nowSec: number, introspected: boolean): InvalidTokenReason | null {
    if (payload['iss'] !== this.issuer && !(introspected && payload['iss'] === undefined)) return 'wrong_issuer';
    const exp = payload['exp'];
    if (exp === undefined && !introspected) return 'missing_exp';
    if (exp !== undefined) {
      if (!isNumericDate(exp)) return 'malformed';
      if (exp <= nowSec - this.#toleranceSec) return 'expired';
    }
    for (const name of ['nbf', 'iat'] as const) {
      const value = payload[name];
      if (value === undefined) continue;
      if (!isNumericDate(value)) return 'malformed';
      if (value > nowSec + this.#toleranceSec) return 'not_yet_valid';
    }
    const sub = payload['sub'];
    if (sub !== undefined && typeof sub !== 'string') return 'malformed';
    if (this.#audiences !== null && !this.#audienceAccepted(payload['aud'])) return 'wrong_audience';
    return null;
  }

  /** RFC 7519 §4.1.3: `aud` is a string or an array of strings; one of them must be ours. */
  #audienceAccepted(aud: unknown): boolean {
    const accepted = this.#audiences!;
    if (typeof aud === 'string') return accepted.has(aud);
    if (!Array.isArray(aud)) return false;
    for (const a of aud) if (typeof a === 'string' && accepted.has(a)) return true;
    return false;
  }
}

/** RFC 7519 §2 NumericDate: a JSON number of seconds (fractions allowed). */
function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Resolves when `p` settles or after `ms`, whichever is first; never rejects. */
function withDeadline(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); });
  return Promise.race([p.catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
}
