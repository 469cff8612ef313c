/**
 * The request host for routing: the Host header (or HTTP/2 :authority)
 * lowercased, without port; IPv6 literals keep their brackets off.
 */
export function hostOf(value: string | undefined): string {
  if (value === undefined || value === '') return '';
  let host = value;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    host = end > 0 ? host.slice(1, end) : host;
  } else {
    const colon = host.indexOf(':');
    if (colon >= 0) host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1); // `example.com.` is `example.com`
  return host.toLowerCase();
}

/**
 * RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host header is a
 * 400. Checked by us rather than Node so the answer carries our JSON body
 * and gets a log line; two Hosts are refused because two hops could each
 * believe a different one.
 */
export function hasValidHostHeader(rawHeaders: readonly string[], httpVersion: string, http2: boolean): boolean {
  if (http2) return hasValidAuthority(rawHeaders);
  let count = 0;
  let value = '';
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') {
      count++;
      value = rawHeaders[i + 1]!;
    }
  }
  if (count === 0) return httpVersion === '1.0';
  return count === 1 && HOST_SYNTAX.test(value);
}

/**
 * HTTP/2 (RFC 9113 §8.3.1): the authority is `:authority`, or a Host field, or both — then they
 * must name the same host, since routing reads Host first and the upstream's Host comes from
 * either (tls/h2-headers.ts). Each is held to the same syntax as an HTTP/1.1 Host.
 */
function hasValidAuthority(rawHeaders: readonly string[]): boolean {
  let authority: string | null = null;
  let host: string | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name === ':authority') {
      if (authority !== null) return false;
      authority = rawHeaders[i + 1]!;
    } else if (name.length === 4 && name.toLowerCase() === 'host') {
      if (host !== null) return false;
      host = rawHeaders[i + 1]!;
    }
  }
  if (authority !== null && !HOST_SYNTAX.test(authority)) return false;
  if (host !== null && !HOST_SYNTAX.test(host)) return false;
  if (authority !== null && host !== null) return authority.toLowerCase() === host.toLowerCase();
  return authority !== null || host !== null;
}

/**
 * RFC 9110 §7.2 / RFC 3986 §3.2.2 host with optional port: a DNS-style name or IPv4, or a
 * bracketed IPv6 literal. Anything else (userinfo `a@b`, commas, slashes, spaces) is refused,
 * because the gateway and an upstream's URL parser could read a different host from it.
 */
const HOST_SYNTAX = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/;

/** One host value held to HOST_SYNTAX: forward-auth reads the original host from a caller's headers. */
export function isValidHostValue(value: string): boolean {
  return HOST_SYNTAX.test(value);
}
