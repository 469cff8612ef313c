/**
 * The session cookie on the wire (RFC 6265, RFC 6265bis): attributes, the `__Host-` prefix, and
 * splitting a large value across numbered cookies.
 *
 * - `HttpOnly` always (no script reads it), `SameSite=Lax` (sent on top-level navigations, so the
 *   IdP's redirect back and links from elsewhere keep working; not on cross-site subrequests),
 *   `Path=/`, `Secure` whenever the request came over HTTPS.
 * - Over HTTPS without `cookieDomain` the name is `__Host-<cookieName>`: the browser then refuses
 *   the cookie unless it is Secure, host-only and Path=/, so a sibling sub-domain or a plain-HTTP
 *   page cannot plant or overwrite it (RFC 6265bis §4.1.3.2).
 * - Browsers keep about 4096 bytes per cookie (RFC 6265 §6.1 asks for at least that much), so a
 *   sealed session longer than CHUNK_BYTES goes as `<name>` = `<count>~<part 0>`, `<name>_1` … .
 *   The count makes a stale extra chunk from an earlier, longer session harmless.
 */
import { readCookie } from '../auth/token-source.js';

/** Bytes of value per cookie: room for name and attributes under the 4096 a browser keeps. */
export const CHUNK_BYTES = 3800;
/** Most chunks read or written: bounds what a request can make us concatenate (and header size). */
export const MAX_CHUNKS = 4;

export interface CookieNames {
  /** The first (or only) cookie's name for this request's scheme. */
  readonly base: string;
  readonly secure: boolean;
}

export class CookieJarSpec {
  readonly #plain: string;
  readonly #secureName: string;
  readonly #domain: string;

  constructor(cookieName: string, cookieDomain: string | undefined) {
    this.#plain = cookieName;
    const prefixed = cookieName.startsWith('__Host-') || cookieName.startsWith('__Secure-');
    this.#secureName = prefixed || cookieDomain !== undefined ? cookieName : `__Host-${cookieName}`;
    this.#domain = cookieDomain === undefined ? '' : `; Domain=${cookieDomain}`;
  }

  /** `__Host-` needs Secure, which a plain-HTTP page cannot set: over http the bare name. */
  names(proto: string): CookieNames {
    const secure = proto === 'https';
    return { base: secure ? this.#secureName : this.#plain, secure };
  }

  /**
   * Set-Cookie values carrying `value` under `name` (split when long), expiring the chunks below
   * `clearUpTo` it no longer needs. One cookie for the usual session, so a forward-auth caller
   * that passes on only one Set-Cookie (NGINX's $upstream_http_set_cookie) passes on all of it.
   */
  write(n: CookieNames, value: string, maxAgeSec: number, clearUpTo: number): string[] {
    const parts: string[] = [];
    if (value.length <= CHUNK_BYTES) parts.push(value);
    else for (let i = 0; i < value.length; i += CHUNK_BYTES) parts.push(value.slice(i, i + CHUNK_BYTES));
    if (parts.length > MAX_CHUNKS) throw new RangeError(`session of ${value.length} bytes does not fit in ${MAX_CHUNKS} cookies`);
    const out: string[] = [];
    parts.forEach((part, i) => {
      const v = i === 0 && parts.length > 1 ? `${parts.length}~${part}` : part;
      out.push(this.attributes(chunkName(n.base, i), v, maxAgeSec, n.secure));
    });
    for (let i = parts.length; i < clearUpTo; i++) out.push(this.attributes(chunkName(n.base, i), '', 0, n.secure));
    return out;
  }

  /** Set-Cookie values that delete the cookie and its chunks. */
  clear(n: CookieNames, chunks = MAX_CHUNKS): string[] {
    const out: string[] = [];
    for (let i = 0; i < chunks; i++) out.push(this.attributes(chunkName(n.base, i), '', 0, n.secure));
    return out;
  }

  /** One cookie with this jar's attributes. */
  attributes(name: string, value: string, maxAgeSec: number, secure: boolean): string {
    return `${name}=${value}; Path=/${this.#domain}; Max-Age=${maxAgeSec}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  }
}

/** How many cookies of `base` (the first and its chunks) the request sent: the ones a rewrite must expire. */
export function chunksSent(cookieHeader: string | undefined, base: string): number {
  if (cookieHeader === undefined) return 0;
  let n = 0;
  for (let i = 0; i < MAX_CHUNKS; i++) if (readCookie(cookieHeader, chunkName(base, i)) !== null) n = i + 1;
  return n;
}

export function chunkName(base: string, i: number): string {
  return i === 0 ? base : `${base}_${i}`;
}

/**
 * The value written by `write`, joined again; null when absent, malformed, or sent twice with
 * different values (another cookie of the same name, e.g. planted for a parent domain).
 */
export function readChunked(cookieHeader: string | undefined, base: string): string | null {
  if (cookieHeader === undefined) return null;
  const first = readCookie(cookieHeader, base);
  if (typeof first !== 'string' || first === '') return null;
  const tilde = first.indexOf('~');
  if (tilde < 0) return first;
  const count = Number(first.slice(0, tilde));
  if (!Number.isInteger(count) || count < 2 || count > MAX_CHUNKS) return null;
  let value = first.slice(tilde + 1);
  for (let i = 1; i < count; i++) {
    const part = readCookie(cookieHeader, chunkName(base, i));
    if (typeof part !== 'string' || part === '') return null;
    value += part;
  }
  return value;
}
