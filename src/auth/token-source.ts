/**
 * Where a request's token is read from (`auth.tokenSources`, PRODUCT §1.7):
 * `Authorization: Bearer` (RFC 6750 §2.1), another header read whole, or a
 * cookie (RFC 6265 §4.2). All sources are read; two different tokens in one
 * request are refused, since the gateway would verify one while the upstream
 * might read the other — and so is a token cookie named twice or ambiguously.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { TokenSourceConfig } from '../config/types.js';
import { cookiePairs, matchCookieName, tokenCookieName, type TokenCookieName } from './cookies.js';

/** The request carried two different tokens. */
export const MULTIPLE_TOKENS = Symbol('multiple tokens');
/**
 * The Cookie headers name a token cookie twice, or carry an alias of its name (cookies.ts): which
 * one an upstream reads is up to its parser, so the request is refused as malformed (400).
 */
export const AMBIGUOUS_COOKIE = Symbol('ambiguous cookie');
export type Extracted = string | null | typeof MULTIPLE_TOKENS | typeof AMBIGUOUS_COOKIE;

type Source = { readonly kind: 'bearer' } | { readonly kind: 'header'; readonly name: string } | { readonly kind: 'cookie'; readonly cookie: TokenCookieName };

const SP = 32;

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
 * The value of cookie `name` in a Cookie header (several Cookie headers are joined by Node with
 * "; "), names and values trimmed as RFC 6265 §5.2 reads them; AMBIGUOUS_COOKIE when the name
 * occurs twice (whatever the values) or an alias of it occurs (cookies.ts). Names are
 * case-sensitive; a value in double quotes is unquoted (§4.1.1 cookie-value).
 */
export function readCookie(header: string, name: string | TokenCookieName): Extracted {
  const token = typeof name === 'string' ? tokenCookieName(name) : name;
  let found: string | null = null;
  for (const c of cookiePairs(header)) {
    const match = matchCookieName(c.name, token);
    if (match === null) continue;
    if (match === 'alias' || found !== null) return AMBIGUOUS_COOKIE;
    let value = c.value;
    if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) value = value.slice(1, -1);
    found = value;
  }
  return found;
}

export class TokenSources {
  readonly #sources: readonly Source[];
  /** Lowercased names of the non-Authorization headers that carry tokens. */
  readonly headerNames: readonly string[];
  readonly cookieNames: readonly TokenCookieName[];

  constructor(cfg: readonly TokenSourceConfig[]) {
    this.#sources = Object.freeze(cfg.map((s): Source => {
      if ('cookie' in s) return Object.freeze({ kind: 'cookie', cookie: tokenCookieName(s.cookie) });
      const name = s.header.toLowerCase();
      return Object.freeze(name === 'authorization' ? { kind: 'bearer' } : { kind: 'header', name });
    }));
    this.headerNames = Object.freeze(this.#sources.flatMap((s) => (s.kind === 'header' ? [s.name] : [])));
    this.cookieNames = Object.freeze(this.#sources.flatMap((s) => (s.kind === 'cookie' ? [s.cookie] : [])));
  }

  /** The request's token, null when it has none, MULTIPLE_TOKENS when sources disagree, AMBIGUOUS_COOKIE (readCookie). */
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
        if (cookie !== undefined) found = readCookie(cookie, source.cookie);
      }
      if (found === AMBIGUOUS_COOKIE) return found;
      if (found === MULTIPLE_TOKENS) return found;
      if (found === null) continue;
      if (token !== null && token !== found) return MULTIPLE_TOKENS;
      token = found;
    }
    return token;
  }
}
