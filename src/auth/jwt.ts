/**
 * Compact JWS parsing before any key is touched (RFC 7515 §7.1, RFC 7519 §7.2).
 *
 * Runs on attacker input, so it is strict and bounded: the caller has
 * already capped the length; here the shape must be exactly three non-empty
 * base64url segments (a JWE has five, RFC 7516 §7.1, and is refused), both
 * JSON parts must be objects in valid UTF-8, and header parameters that
 * would tell a verifier where to find a key are refused outright.
 *
 * The payload is decoded here WITHOUT verification, only so that `iss` can
 * pick the provider (RFC 8725 §3.8); nothing in it is trusted until the
 * signature over these same bytes has been verified.
 */
import type { InvalidTokenReason } from './responses.js';

export interface ParsedJwt {
  /** The compact serialisation, as received. */
  readonly token: string;
  readonly alg: string;
  readonly kid: string | undefined;
  /** `typ` (RFC 7515 §4.1.9), when it is a string; compared by Provider when `requireTyp` is set. */
  readonly typ: string | undefined;
  /** `iss`, when it is a string; unverified. */
  readonly iss: string | undefined;
  /** The decoded payload; unverified until the signature is checked. */
  readonly payload: Readonly<Record<string, unknown>>;
}

/** Exactly three non-empty base64url segments (RFC 7515 §2: base64url without padding). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Longest `kid` accepted; real ones are thumbprints or short names. */
export const MAX_KID_LENGTH = 256;

/**
 * Header parameters that carry or locate a key (RFC 7515 §4.1.2–4.1.6). Keys come only from
 * the configured provider; following these is the classic SSRF / key-injection hole
 * (RFC 8725 §3.10), and an issuer we trust has no reason to send them.
 */
const KEY_LOCATING_HEADERS = ['jku', 'jwk', 'x5u', 'x5c'] as const;

// fatal: RFC 7519 §7.2 requires UTF-8; invalid sequences are refused, not replaced.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodeJsonObject(segment: string): Record<string, unknown> | null {
  // A base64url string of length 4n+1 cannot come from any byte sequence (RFC 4648 §5).
  if (segment.length % 4 === 1) return null;
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(Buffer.from(segment, 'base64url')));
  } catch {
    return null;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** The parsed token, or the reason it is refused before any key lookup. */
export function parseJwt(token: string): ParsedJwt | InvalidTokenReason {
  if (!COMPACT_JWS.test(token)) return 'malformed';
  const dot1 = token.indexOf('.');
  const dot2 = token.indexOf('.', dot1 + 1);
  if (token.length - dot2 - 1 === 1) return 'malformed'; // a 1-character signature is not base64url
  const header = decodeJsonObject(token.slice(0, dot1));
  if (header === null) return 'malformed';
  const alg = header['alg'];
  if (typeof alg !== 'string' || alg === '') return 'malformed';
  // Unsecured JWTs (RFC 7519 §6) in any casing: already impossible through the configured
  // algorithm lists (the schema has no 'none'), refused here too so no config can reopen it.
  if (alg.length === 4 && alg.toLowerCase() === 'none') return 'alg_not_allowed';
  for (const name of KEY_LOCATING_HEADERS) if (Object.hasOwn(header, name)) return 'header_not_allowed';
  // RFC 7515 §4.1.11: extensions listed in `crit` must be understood; we understand none.
  // `b64` (RFC 7797) is refused with it: an unencoded payload is not a JWT (RFC 7797 §7).
  if (Object.hasOwn(header, 'crit') || Object.hasOwn(header, 'b64')) return 'header_not_allowed';
  const kid = header['kid'];
  if (kid !== undefined && (typeof kid !== 'string' || kid === '' || kid.length > MAX_KID_LENGTH)) return 'malformed';
  const payload = decodeJsonObject(token.slice(dot1 + 1, dot2));
  if (payload === null) return 'malformed';
  const iss = payload['iss'];
  const typ = header['typ'];
  return { token, alg, kid, typ: typeof typ === 'string' ? typ : undefined, iss: typeof iss === 'string' ? iss : undefined, payload };
}

/**
 * A media type as RFC 7515 §4.1.9 compares `typ`: case-insensitively, and with the
 * `application/` prefix optional (`at+jwt` and `application/at+jwt` are the same type).
 */
export function normaliseTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}
