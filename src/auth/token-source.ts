/**
 * Where a request's token is read from (`auth.tokenSources`, PRODUCT §1.7):
 * `Authorization: Bearer` (RFC 6750 §2.1), another header read whole, or a
 * cookie (RFC 6265 §4.2). All sources are read; two different tokens in one
 * request are refused, since the gateway would verify one while the upstream
 * might read the other.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { TokenSourceConfig } from '../config/types.js';

/** The request carried two different tokens. */
export const MULTIPLE_TOKENS = Symbol('multiple tokens');
export type Extracted = string | null | typeof MULTIPLE_TOKENS;

type Source = { readonly kind: 'bearer' } | { readonly kind: 'header'; readonly name: string } | { readonly kind: 'cookie'; readonly name: string };

const SP = 32;
const HTAB = 9;

/**
 * RFC 6750 §2.1: `Bearer 1*SP b64token`, scheme case-insensitive (RFC 9110 §11.1). Another
 * scheme (Basic …) is not a bearer token: null. `Bearer` with nothing after it yields '', which
 * the parser then refuses as malformed rather than treating the request as anonymous.
 */
export function bearerToken(value: string): string | null {
  if (value.length < 6 || value.slice(0, 6).toLowerCase() !== 'bearer') return null;
  if (value.length === 6) return '';
  let i = 6;
  if (value.charCodeAt(i) !== SP) return null; // "Bearerx…" is another scheme
  while (i < value.length && value.charCodeAt(i) === SP) i++;
  return value.slice(i).trimEnd();
}

/**
 * The value of cookie `name` in a Cookie header (RFC 6265 §5.4), or MULTIPLE_TOKENS when the
 * name occurs twice with different values (several Cookie headers are joined by Node with "; ").
 * Names are case-sensitive; a value in double quotes is unquoted (§4.1.1 cookie-value).
 */
export function readCookie(header: string, name: string): Extracted {
  let found: string | null = null;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    let s = start;
    while (s < end && (header.charCodeAt(s) === SP || header.charCodeAt(s) === HTAB)) s++;
    if (header.startsWith(name, s) && header.charCodeAt(s + name.length) === 61 /* '=' */ && s + name.length < end) {
      let value = header.slice(s + name.length + 1, end).trim();
      if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) value = value.slice(1, -1);
      if (found !== null && found !== value) return MULTIPLE_TOKENS;
      found = value;
    }
    start = end + 1;
  }
  return found;
}

export class TokenSources {
  readonly #sources: readonly Source[];
  /** Lowercased names of the non-Authorization headers that carry tokens. */
  readonly headerNames: readonly string[];
  readonly cookieNames: readonly string[];

  constructor(cfg: readonly TokenSourceConfig[]) {
    this.#sources = Object.freeze(cfg.map((s): Source => {
      if ('cookie' in s) return Object.freeze({ kind: 'cookie', name: s.cookie });
      const name = s.header.toLowerCase();
      return Object.freeze(name === 'authorization' ? { kind: 'bearer' } : { kind: 'header', name });
    }));
    this.headerNames = Object.freeze(this.#sources.flatMap((s) => (s.kind === 'header' ? [s.name] : [])));
    this.cookieNames = Object.freeze(this.#sources.flatMap((s) => (s.kind === 'cookie' ? [s.name] : [])));
  }

  /** The request's token, null when it has none, MULTIPLE_TOKENS when sources disagree. */
  extract(headers: IncomingHttpHeaders): Extracted {
    let token: string | null = null;
    for (const source of this.#sources) {
      let found: Extracted = null;
      if (source.kind === 'bearer') {
        const auth = headers.authorization;
        if (auth !== undefined) found = bearerToken(auth);
      } else if (source.kind === 'header') {
        const value = headers[source.name];
        // Node joins repeated custom headers with ", ": such a value fails parsing as malformed.
        if (typeof value === 'string' && value !== '') found = value.trim();
      } else {
        const cookie = headers.cookie;
        if (cookie !== undefined) found = readCookie(cookie, source.name);
      }
      if (found === MULTIPLE_TOKENS) return found;
      if (found === null) continue;
      if (token !== null && token !== found) return MULTIPLE_TOKENS;
      token = found;
    }
    return token;
  }
}
