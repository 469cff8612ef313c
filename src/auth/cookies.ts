/**
 * Cookie header pairs as RFC 6265 §5.2 reads a name-value pair, for the token source and the
 * credential stripper alike: split at the first '=', then "remove any leading or trailing WSP
 * characters from the name string and the value string". `access_token =X` is the cookie
 * `access_token` — as the `cookie` npm package and most server frameworks read it — so a
 * gateway that looked only for `access_token=` verified one token while the upstream read
 * another (issue 22 §7).
 *
 * A token cookie's name must also be unambiguous: frameworks disagree about more than
 * whitespace. ASP.NET Core compares cookie names case-insensitively; PHP percent-decodes them
 * and turns ' ', '.' and '[' into '_'. A pair whose name folds (foldCookieName) to a token
 * cookie's name without being that name is an alias the upstream may read as the token cookie.
 */

const SP = 32;
const HTAB = 9;

/** One `name=value` pair of a Cookie header; `name` and `value` trimmed, `pair` as sent (trimmed). */
export interface CookiePair {
  readonly name: string;
  readonly value: string;
  readonly pair: string;
}

function isWsp(c: number): boolean {
  return c === SP || c === HTAB;
}

function trimWsp(s: string, start: number, end: number): string {
  while (start < end && isWsp(s.charCodeAt(start))) start++;
  while (end > start && isWsp(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

/**
 * The pairs of a Cookie header value (several Cookie headers arrive joined with "; "). Empty
 * pairs are skipped; a pair without '=' has that text as its value and the empty name, as
 * browsers send a nameless cookie (RFC 6265bis §5.6, step 2).
 */
export function cookiePairs(header: string): CookiePair[] {
  const out: CookiePair[] = [];
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    const pair = trimWsp(header, start, end);
    if (pair !== '') {
      const eq = pair.indexOf('=');
      out.push(eq < 0
        ? { name: '', value: pair, pair }
        : { name: trimWsp(pair, 0, eq), value: trimWsp(pair, eq + 1, pair.length), pair });
    }
    start = end + 1;
  }
  return out;
}

/** The spelling the lenient frameworks compare by: percent-decoded, lowercased, ' ' '.' '[' as '_'. */
export function foldCookieName(name: string): string {
  let out = name;
  if (out.includes('%')) {
    try {
      out = decodeURIComponent(out);
    } catch {
      // Not decodable as UTF-8: PHP keeps such bytes; compared as sent.
    }
  }
  return out.toLowerCase().replace(/[ .[]/g, '_');
}

/** How a Cookie pair's name relates to a token cookie's: the name itself, an alias of it, or neither. */
export type CookieNameMatch = 'exact' | 'alias' | null;

/** A token cookie name (auth.tokenSources) with its folded spelling, compiled once. */
export interface TokenCookieName {
  readonly name: string;
  readonly folded: string;
}

export function tokenCookieName(name: string): TokenCookieName {
  return Object.freeze({ name, folded: foldCookieName(name) });
}

export function matchCookieName(pairName: string, token: TokenCookieName): CookieNameMatch {
  if (pairName === token.name) return 'exact';
  // Folding keeps the length unless it percent-decodes: most names are ruled out without folding.
  if (pairName.length !== token.name.length && !pairName.includes('%')) return null;
  return foldCookieName(pairName) === token.folded ? 'alias' : null;
}
