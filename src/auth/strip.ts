/**
 * `forwardAuthorization: false` (PRODUCT §3): the upstream receives no
 * credential at all — not the Authorization header, nor a DPoP proof, nor any configured token
 * header, nor the token cookie (the other cookies pass). Compiled per route;
 * src/proxy/headers.ts applies it while copying the request headers.
 *
 * The token cookie is found as the token source finds it (cookies.ts): names
 * trimmed as RFC 6265 §5.2 reads them, and its alias spellings (`Access_Token`,
 * `access.token`) go too, since an upstream may read them as the token cookie.
 */
import { cookiePairs, matchCookieName, tokenCookieName, type TokenCookieName } from './cookies.js';
import type { TokenSources } from './token-source.js';

export class CredentialStrip {
  /** Lowercased header names removed whole: authorization plus the token headers. */
  readonly headers: ReadonlySet<string>;
  readonly #cookies: readonly TokenCookieName[];

  /**
   * `sessionCookies`: the sign-in session's cookies, removed on login routes whatever
   * `forwardAuthorization` says (session/compile.ts); `tokens: false` keeps the token credentials.
   */
  constructor(sources: TokenSources, sessionCookies: readonly string[] = [], tokens = true) {
    // `dpop` (RFC 9449 proof) goes with the token it is bound to: useless to an upstream without it.
    this.headers = new Set(tokens ? ['authorization', 'dpop', ...sources.headerNames] : []);
    this.#cookies = [...(tokens ? sources.cookieNames : []), ...sessionCookies.map(tokenCookieName)];
  }

  get stripsCookies(): boolean {
    return this.#cookies.length > 0;
  }

  /** A Cookie header value without the token cookies; null when nothing is left (RFC 6265 §5.4 pairs). */
  cookie(value: string): string | null {
    let out = '';
    for (const c of cookiePairs(value)) {
      if (this.#isToken(c.name)) continue;
      out = out === '' ? c.pair : out + '; ' + c.pair;
    }
    return out === '' ? null : out;
  }

  #isToken(name: string): boolean {
    for (const token of this.#cookies) if (matchCookieName(name, token) !== null) return true;
    return false;
  }
}
