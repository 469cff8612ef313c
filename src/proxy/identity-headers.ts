/// <reference lib="es2024.string" />
/**
 * Identity header values from verified claims (PRODUCT §4). Claims are IdP
 * data that users can sometimes edit (names, emails), so values are made
 * header-safe here: arrays joined by commas, control characters dropped,
 * non-ASCII percent-encoded (UTF-8), and the result bounded so NGINX
 * `auth_request_set` buffers and upstream header limits are not overflowed.
 * Nothing here throws, whatever a signed claim holds: JSON may spell a lone
 * UTF-16 surrogate (`"\ud800"`), which encodeURI refuses with a URIError.
 */
import { readClaim } from '../contract/claims.js';
import type { IdentityHeader } from '../route/compiled-route.js';
import type { ClientCertificate, Identity } from '../contract/types.js';

/** Longest identity header value sent; longer arrays are cut at an element boundary. */
export const MAX_IDENTITY_VALUE_BYTES = 2048;

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f]/g;
const NON_ASCII = /[^\u0020-\u007e]/;

function scalarToString(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function headerSafe(value: string): string {
  let out = value.replace(UNSAFE, '');
  // A lone surrogate becomes U+FFFD first (what a UTF-8 encoder writes for it): encodeURI throws
  // on ill-formed UTF-16, and a throw here was a 500 for every request with the token (issue 22 §8).
  if (NON_ASCII.test(out)) out = encodeURI(out.toWellFormed());
  return out;
}

/** The header value for one claim, or null when the claim is absent or not a scalar/array. */
export function identityValue(claims: Readonly<Record<string, unknown>>, header: IdentityHeader): string | null {
  const value = readClaim(claims, header.claim);
  if (Array.isArray(value)) {
    let out = '';
    for (const item of value) {
      const s = scalarToString(item);
      if (s === null) continue;
      const safe = headerSafe(s).replace(/,/g, '%2C');
      const next = out === '' ? safe : out + ',' + safe;
      if (next.length > MAX_IDENTITY_VALUE_BYTES) break;
      out = next;
    }
    return out === '' ? null : out;
  }
  const s = scalarToString(value);
  if (s === null) return null;
  const safe = headerSafe(s);
  return safe.length > MAX_IDENTITY_VALUE_BYTES ? safe.slice(0, MAX_IDENTITY_VALUE_BYTES) : safe;
}

/**
 * Appends `[name, value]` pairs for every identity header that has a value. Claim paths under
 * `cert.` read the verified TLS client certificate (issue 7), never the token: a token claim
 * named `cert` cannot pose as a certificate.
 */
export function appendIdentityHeaders(
  out: string[], identity: Identity | null, headers: readonly IdentityHeader[], cert: ClientCertificate | null = null,
): void {
  if (identity === null && cert === null) return;
  for (const header of headers) {
    const claims = header.claim[0] === 'cert' ? cert?.claims : identity?.claims;
    if (claims === undefined) continue;
    const value = identityValue(claims, header);
    if (value !== null) out.push(header.name, value);
  }
}
