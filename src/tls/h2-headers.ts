/**
 * An HTTP/2 request's header list as an HTTP/1.1 upstream must receive it (issue 7).
 *
 * Node's HTTP/2 compatibility layer puts the pseudo-header fields (`:method`, `:path`,
 * `:scheme`, `:authority`, RFC 9113 §8.3.1) first in `rawHeaders`. They are request control
 * data, not fields, and never go to an upstream; the Host an HTTP/1.1 upstream needs is built
 * from `:authority` when the client sent no Host (RFC 9113 §8.3.1: "An intermediary that
 * forwards a request over HTTP/1.1 MUST construct a Host header field if one is not present
 * … by copying the value of the :authority pseudo-header field"). HTTP/2 also lets a client
 * split Cookie into several fields (RFC 9113 §8.2.3); they are joined again with "; ", because
 * an HTTP/1.1 request carries at most one Cookie field (RFC 6265 §5.4).
 */

/** Whether `rawHeaders` came from HTTP/2: pseudo-headers always lead there (RFC 9113 §8.3). */
export function isH2RawHeaders(rawHeaders: readonly string[]): boolean {
  return rawHeaders.length > 0 && rawHeaders[0]!.charCodeAt(0) === 58 /* ':' */;
}

export function h2ToHttp1RawHeaders(rawHeaders: readonly string[]): string[] {
  const out: string[] = [];
  let authority: string | null = null;
  let hasHost = false;
  let cookie: string | null = null;
  let cookieName = 'cookie';
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    if (name.charCodeAt(0) === 58 /* ':' */) {
      if (name === ':authority') authority = value;
      continue;
    }
    if (name.length === 6 && name.toLowerCase() === 'cookie') {
      cookieName = name;
      cookie = cookie === null ? value : cookie + '; ' + value;
      continue;
    }
    if (name.length === 4 && name.toLowerCase() === 'host') hasHost = true;
    out.push(name, value);
  }
  if (!hasHost && authority !== null) out.unshift('host', authority);
  if (cookie !== null) out.push(cookieName, cookie);
  return out;
}
