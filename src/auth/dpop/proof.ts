/**
 * The proof checks of RFC 9449 §4.3, in its order, for one `DPoP` header value: a well-formed JWS
 * whose `typ` is dpop+jwt, whose `alg` is an allowlisted asymmetric one, whose `jwk` is a public
 * key that verifies its signature; then `htm`, `htu`, `iat` and `ath` against this request and
 * its access token. The jti replay check and the nonce (which need a store or the issuer) and the
 * token's `cnf.jkt` are the caller's (check.ts), with what this returns.
 */
import { hash } from 'node:crypto';
import type { RequestContext } from '../../contract/types.js';
import { htuMatches } from './htu.js';
import type { DpopProofReason } from './reasons.js';
import { importProofKey, verifySignature, type ProofHeader, type ProofHeaders } from './signature.js';
import { jwkThumbprint, publicJwkProblem } from './thumbprint.js';
import type { LastTokenMemo } from '../last-token.js';

/** Longest DPoP header read: an RSA-4096 key and the claims fit in well under half of it. */
export const MAX_PROOF_BYTES = 8192;
/** Longest jti kept: RFC 9449 §4.2 suggests 96 bits of randomness; a UUID is 36 characters. */
const MAX_JTI_CHARS = 256;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface VerifiedProof {
  /** RFC 7638 thumbprint of the proof key: compared with the token's cnf.jkt. */
  readonly thumbprint: string;
  readonly jti: string;
  /** The `nonce` claim as sent (checked only when nonces are enabled). */
  readonly nonce: unknown;
}

export interface ProofRules {
  readonly algorithms: ReadonlySet<string>;
  readonly maxAgeSec: number;
  readonly toleranceSec: number;
}

function decodeJson(part: string): Record<string, unknown> | null {
  if (!BASE64URL.test(part)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** RFC 9449 §4.2 `ath`: base64url of the SHA-256 of the access token's ASCII octets. */
export function accessTokenHash(token: string): string {
  return hash('sha256', token, 'base64url');
}

/** §4.3 checks 4-7 on a protected header not seen before: typ, alg, crit, a public jwk that imports. */
function checkHeader(segment: string, rules: ProofRules): ProofHeader | DpopProofReason {
  const header = decodeJson(segment);
  if (header === null) return 'dpop_malformed';
  const typ = header['typ'];
  if (typeof typ !== 'string' || typ.toLowerCase() !== 'dpop+jwt') return 'dpop_wrong_typ';
  const alg = header['alg'];
  // none, HS* and anything not configured: refused before any key is touched (RFC 8725 §3.1).
  if (typeof alg !== 'string' || !rules.algorithms.has(alg)) return 'dpop_alg_not_allowed';
  // RFC 7515 §4.1.11: an extension we are told we must understand, and do not.
  if (header['crit'] !== undefined) return 'dpop_malformed';
  const jwk = header['jwk'];
  const jwkProblem = publicJwkProblem(jwk);
  if (jwkProblem !== null) return jwkProblem;
  const key = importProofKey(alg, jwk as Record<string, unknown>);
  // A key that does not suit alg cannot have made the signature.
  if (key === null) return 'dpop_bad_signature';
  return { alg, key, thumbprint: jwkThumbprint(jwk as Record<string, unknown>) };
}

export function verifyProof(
  value: string, ctx: RequestContext, token: string, nowSec: number, rules: ProofRules, headers: ProofHeaders, athOf: LastTokenMemo,
): VerifiedProof | DpopProofReason {
  if (value.length > MAX_PROOF_BYTES) return 'dpop_malformed';
  // Node joins repeated DPoP headers with ", "; a compact JWS never holds a comma (§4.3 check 1).
  if (value.includes(',')) return 'dpop_multiple_proofs';
  const dot1 = value.indexOf('.');
  const dot2 = dot1 < 0 ? -1 : value.indexOf('.', dot1 + 1);
  if (dot2 < 0 || value.indexOf('.', dot2 + 1) >= 0) return 'dpop_malformed';
  const sig = value.slice(dot2 + 1);
  const segment = value.slice(0, dot1);
  let head = headers.get(segment);
  if (head === null) {
    const checked = checkHeader(segment, rules);
    if (typeof checked === 'string') return checked;
    head = checked;
    headers.set(segment, head);
  }
  if (!BASE64URL.test(sig)) return 'dpop_malformed';
  if (!verifySignature(head, value.slice(0, dot2), Buffer.from(sig, 'base64url'))) return 'dpop_bad_signature';
  const claims = decodeJson(value.slice(dot1 + 1, dot2));
  if (claims === null) return 'dpop_malformed';
  const jti = claims['jti'];
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_CHARS) return 'dpop_missing_jti';
  if (claims['htm'] !== ctx.method) return 'dpop_wrong_htm';
  const htu = claims['htu'];
  if (typeof htu !== 'string' || !htuMatches(htu, ctx)) return 'dpop_wrong_htu';
  const iat = claims['iat'];
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return 'dpop_malformed';
  if (iat > nowSec + rules.toleranceSec) return 'dpop_future';
  if (iat < nowSec - rules.maxAgeSec - rules.toleranceSec) return 'dpop_stale';
  const ath = claims['ath'];
  if (ath === undefined) return 'dpop_missing_ath';
  if (ath !== athOf.of(token)) return 'dpop_wrong_ath';
  return { thumbprint: head.thumbprint, jti, nonce: claims['nonce'] };
}
