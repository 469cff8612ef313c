/**
 * `forwardAuthorization: false` (PRODUCT §3): the upstream receives no
 * credential at all — not the Authorization header, nor any configured token
 * header, nor the token cookie (the other cookies pass). Compiled per route;
 * src/proxy/headers.ts applies it while copying the request headers.
 */
import type { TokenSources } from './token-source.js';

export class CredentialStrip {
  /** Lowercased header names removed whole: authorization plus the token headers. */
  readonly headers: ReadonlySet<string>;
  readonly #cookies: ReadonlySet<string>;

  /**
   * `sessionCookies`: the sign-in session's cookies, removed on login routes whatever
   * `forwardAuthorization` says (session/compile.ts); `tokens: false` keeps the token credentials.
   */
  constructor(sources: TokenSources, sessionCookies: readonly string[] = [], tokens = true) {
    this.headers = new Set(tokens ? ['authorization', ...sources.headerNames] : []);
    this.#cookies = new Set([...(tokens ? sources.cookieNames : []), ...sessionCookies]);
  }

  get stripsCookies(): boolean {
    return this.#cookies.size > 0;
  }

  /** A Cookie header value without the token cookies; null when nothing is left (RFC 6265 §5.4 pairs). */
  cookie(value: string): string | null {
    let out = '';
    let start = 0;
    while (start < value.length) {
      let end = value.indexOf(';', start);
      if (end < 0) end = value.length;
      const pair = value.slice(start, end).trim();
      start = end + 1;
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      if (this.#cookies.has(name)) continue;
      out = out === '' ? pair : out + '; ' + pair;
    }
    return out === '' ? null : out;
  }
}
