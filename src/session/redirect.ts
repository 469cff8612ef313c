/**
 * Where sign-in and sign-out may send the browser afterwards (`rd`). Open redirects are the most
 * repeated CVE class of sign-in proxies, nearly always a parser disagreement: the proxy reads a
 * value as a local path while the browser reads it as another host. So the rule is narrow and
 * checked on the value the browser will see:
 *
 * - a path: one '/' then not '/' or '\' (`//evil`, `/\evil` are host references to a browser,
 *   WHATWG URL §4.4 treats '\' as '/' for special schemes), and resolved against a placeholder
 *   origin it must stay on that origin;
 * - or an absolute `http://` / `https://` URL whose host is the request's own host or in
 *   `sessions.allowedRedirectHosts` (exact, or `*.example.com` for its sub-domains), without
 *   userinfo (`https://good@evil`);
 * - never control characters, spaces or a backslash anywhere, raw or percent-encoded once more
 *   (browsers drop tab and newline inside URLs: `/\t/evil` is `//evil`), and nothing like
 *   `https:evil` (a scheme without '//', which browsers resolve relative to the page).
 */

const MAX_RD_BYTES = 2048;
/** C0 controls, space, DEL and the backslash. */
// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const FORBIDDEN = /[\x00-\x20\x7f\\]/;
const ABSOLUTE = /^https?:\/\//i;
const PLACEHOLDER = 'http://rd.invalid';
const AUTHORITY_END = /[/?#]/;

export class RedirectPolicy {
  readonly #exact: ReadonlySet<string>;
  /** `.example.com` for every `*.example.com`. */
  readonly #suffixes: readonly string[];

  constructor(allowedHosts: readonly string[]) {
    this.#exact = new Set(allowedHosts.filter((h) => !h.startsWith('*.')));
    this.#suffixes = allowedHosts.filter((h) => h.startsWith('*.')).map((h) => h.slice(1));
  }

  /**
   * The target to redirect to, normalised (a path, or an absolute URL); null when `rd` is not
   * allowed. `requestHost` is the host the browser addressed (lowercase, no port).
   */
  check(rd: string, requestHost: string): string | null {
    if (rd.length === 0 || rd.length > MAX_RD_BYTES || FORBIDDEN.test(rd)) return null;
    let once: string;
    try {
      once = decodeURIComponent(rd);
    } catch {
      return null;
    }
    // An encoded variant of the same tricks (%2f%2fevil, %5c, %09) is refused too, whatever a later hop decodes.
    if (FORBIDDEN.test(once) || once.startsWith('//')) return null;
    if (rd.charCodeAt(0) === 47 /* '/' */) return localPath(rd);
    if (!ABSOLUTE.test(rd)) return null;
    let url: URL;
    try {
      url = new URL(rd);
    } catch {
      return null;
    }
    if (url.username !== '' || url.password !== '' || authorityOf(rd).includes('@')) return null;
    const host = url.hostname.toLowerCase();
    if (host !== requestHost && !this.#hostAllowed(host)) return null;
    return url.href;
  }

  #hostAllowed(host: string): boolean {
    if (this.#exact.has(host)) return true;
    for (const s of this.#suffixes) if (host.length > s.length && host.endsWith(s)) return true;
    return false;
  }
}

function localPath(rd: string): string | null {
  const second = rd.charCodeAt(1);
  if (second === 47 /* '/' */ || second === 92 /* '\' */) return null;
  let url: URL;
  try {
    url = new URL(rd, PLACEHOLDER);
  } catch {
    return null;
  }
  if (url.origin !== PLACEHOLDER) return null;
  return url.pathname + url.search + url.hash;
}

/** The raw authority of an absolute URL: after '//', up to the first '/', '?' or '#' (RFC 3986 §3.2). */
function authorityOf(url: string): string {
  const rest = url.slice(url.indexOf('//') + 2);
  const end = rest.search(AUTHORITY_END);
  return end < 0 ? rest : rest.slice(0, end);
}
