/**
 * RFC 9449 §4.3 check 9: the proof's `htu` names the request as the client sent it — scheme,
 * host, port and path, query and fragment ignored — compared after RFC 3986 §6.2.2 syntax-based
 * and §6.2.3 scheme-based normalisation (lowercase scheme and host, default port dropped,
 * percent-encoded unreserved characters decoded, hex digits uppercased, dot segments removed).
 *
 * The request side is what the gateway already decided on: ctx.proto (the listener's scheme, or
 * a trusted proxy's X-Forwarded-Proto), ctx.host (Host at the edge; in the forward-auth shape the
 * original host the adapter read, X-Forwarded-Host or X-Original-URL from a trusted caller), and
 * ctx.path, normalised as PRODUCT §1.4 says (the same `//` merging is applied to htu, so a client
 * and the gateway that disagree only on a doubled slash still agree on the resource). The port
 * comes from the authority header naming ctx.host at the edge; in the forward-auth shape it is
 * the one the adapter established (ctx.originalPort, forward-auth/original.ts): X-Forwarded-Port
 * from a trusted caller that writes it (config/nginx/nginx.conf, Traefik), else the port in the
 * host the caller states — never a header an untrusted caller, or a client through Envoy or
 * HAProxy, could set. Absent: the scheme's default port. docs/dpop.md, "Forward-auth: the port".
 */
import type { RequestContext } from '../../contract/types.js';
import { portOf } from '../../contract/authority.js';

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443', http: '80', https: '443' };
const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** The normalised form of a URL path (RFC 3986 §6.2.2.1-2; WHATWG URL has already removed dot segments). */
export function normaliseHtuPath(path: string): string {
  let out = path;
  if (out.includes('%')) {
    out = out.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
      const ch = String.fromCharCode(Number.parseInt(hex, 16));
      return UNRESERVED.test(ch) ? ch : '%' + hex.toUpperCase();
    });
  }
  if (out.includes('//')) out = out.replace(/\/{2,}/g, '/');
  return out === '' ? '/' : out;
}

function hostnameOf(authority: string): string {
  let host = authority;
  if (host.startsWith('[')) host = host.slice(1, Math.max(1, host.indexOf(']')));
  else {
    const colon = host.indexOf(':');
    if (colon >= 0) host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host.toLowerCase();
}

/** The request's effective port as the client addressed it (see the file comment). */
export function requestPort(ctx: RequestContext): string {
  if (ctx.shape === 'forward-auth') return ctx.originalPort ?? DEFAULT_PORTS[ctx.proto] ?? '';
  const h = ctx.headers;
  const authority = h.host ?? (h[':authority'] as string | undefined);
  if (typeof authority === 'string' && hostnameOf(authority) === ctx.host) return portOf(authority) ?? DEFAULT_PORTS[ctx.proto] ?? '';
  return DEFAULT_PORTS[ctx.proto] ?? '';
}

/** Whether `htu` names this request (query and fragment of either ignored). */
export function htuMatches(htu: string, ctx: RequestContext): boolean {
  let url: URL;
  try {
    url = new URL(htu);
  } catch {
    return false;
  }
  if (url.protocol !== ctx.proto + ':') return false;
  if (url.username !== '' || url.password !== '') return false;
  let hostname = url.hostname;
  if (hostname.startsWith('[')) hostname = hostname.slice(1, -1);
  if (hostname.endsWith('.')) hostname = hostname.slice(0, -1);
  if (hostname !== ctx.host) return false;
  if ((url.port === '' ? DEFAULT_PORTS[url.protocol] : url.port) !== requestPort(ctx)) return false;
  return normaliseHtuPath(url.pathname) === ctx.path;
}
