/**
 * What every forward-auth adapter shares (PRODUCT §5): the original request a caller asks about,
 * and the trust rule for the parts of it that are claims about the client rather than the
 * question itself.
 *
 * The original method and URI are the question: they are read from any caller, since a caller
 * that states them falsely only asks about another request with its own credentials. The client
 * address, the scheme and the forwarded host are claims: they are believed only from a caller
 * inside `server.trustedProxies` (PRODUCT §1.3, §5). From any other caller the client is the
 * caller's own address, the scheme is the auth listener's, and the host is the caller's own Host.
 *
 * A trusted caller is believed only for headers it sets itself: every proxy here passes its
 * client's request headers on to the auth request, so each adapter names which ones its caller
 * writes (Trusting) and a header the caller never writes is never read.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { canonicalIp, type TrustedProxies } from '../route/client-ip.js';
import { hostOf, isValidHostValue } from '../pipeline/host.js';
import { normaliseTarget } from '../route/normalise.js';
import { isKnownMethod } from '../observe/method-label.js';
import { portOf, portValue } from '../contract/authority.js';

/** The caller's request as the adapters see it. */
export interface Caller {
  readonly headers: IncomingHttpHeaders;
  /** Socket peer, canonical (route/client-ip.ts). */
  readonly peer: string;
  /** Whether the peer is inside server.trustedProxies. */
  readonly trusted: boolean;
  readonly trustedProxies: TrustedProxies;
  /** The auth listener's own scheme. */
  readonly listenerProto: string;
}

/** The original request, normalised; or why it could not be read (always a 400). */
export type Original =
  | {
    readonly ok: true; readonly method: string; readonly path: string; readonly query: string;
    readonly host: string; readonly proto: string; readonly clientIp: string;
    /** The port the client addressed (decimal, no leading zeros), or null for the scheme's default. */
    readonly port: string | null;
  }
  | { readonly ok: false; readonly reason: string; readonly pathForLog: string };

export function fail(reason: string, pathForLog = '(no original uri)'): Original {
  return { ok: false, reason, pathForLog };
}

/**
 * A header value, or undefined when absent or empty. A repeated header arrives joined with ", "
 * (Node does that for unknown names), which every reader here refuses: no method, URI, host or
 * address contains a comma followed by a space.
 */
export function single(value: string | string[] | undefined): string | undefined {
  if (value === undefined || Array.isArray(value) || value === '') return undefined;
  return value;
}

/**
 * Only methods Node's own parser accepts at the edge (observe/method-label.ts), as the edge
 * itself answers others: a caller must not mint unbounded log values (and `get` ≠ `GET` for routing).
 */
export function knownMethod(value: string | undefined): string | null {
  return isKnownMethod(value) ? value : null;
}

/** X-Forwarded-Proto as the edge reads it: only the two values mean anything. */
function forwardedProto(value: string | string[] | undefined): string | null {
  return value === 'https' || value === 'http' ? value : null;
}

/** Which of a trusted caller's headers an adapter reads, fixed per adapter. */
export interface Trusting {
  /** The caller's one-address header, read when there is no X-Forwarded-For (X-Real-IP …), or null. */
  readonly addressHeader: string | null;
  /** Whether X-Forwarded-Host names the original host (false: the caller's Host does, as for Envoy). */
  readonly forwardedHost: boolean;
  /**
   * Whether the caller writes X-Forwarded-Port itself (the shipped nginx.conf, Traefik). Where it
   * does not (Envoy passes a client's copy on, even with append_x_forwarded_port; haproxy.cfg
   * does not set it), the port is the one in the host the caller states, and a copy is ignored.
   */
  readonly forwardedPort: boolean;
}

/**
 * Completes an original request from a raw origin-form target and the caller's headers.
 * `urlHost` / `urlScheme` come from an absolute URL the caller built itself (ingress-nginx
 * X-Original-URL): from a trusted caller they win over X-Forwarded-Host / -Proto, which such a
 * caller may have passed on from its client unchanged.
 */
export function complete(
  c: Caller, method: string, target: string, trusting: Trusting,
  urlHost: string | null = null, urlScheme: string | null = null,
): Original {
  const norm = normaliseTarget(target);
  if (!norm.ok) return fail(norm.reason, pathForLog(target));
  const h = c.headers;
  let host: string | undefined;
  let proto = c.listenerProto;
  let clientIp = c.peer;
  let forwardedPort: string | undefined;
  if (c.trusted) {
    host = urlHost ?? (trusting.forwardedHost ? single(h['x-forwarded-host']) : undefined) ?? single(h.host);
    proto = urlScheme ?? forwardedProto(h['x-forwarded-proto']) ?? proto;
    clientIp = clientOf(c, trusting.addressHeader);
    // An absolute URL the caller built names its own port; otherwise its X-Forwarded-Port, if it writes one.
    if (urlHost === null && trusting.forwardedPort) forwardedPort = single(h['x-forwarded-port']);
  } else {
    host = single(h.host);
  }
  // The same syntax the edge demands of Host (pipeline/host.ts): what routing reads must parse one way.
  if (host === undefined || !isValidHostValue(host)) return fail('bad_original_host', norm.path);
  const port = (forwardedPort !== undefined ? portValue(forwardedPort) : null) ?? portOf(host);
  return { ok: true, method, path: norm.path, query: norm.query, host: hostOf(host), proto, clientIp, port };
}

/**
 * A trusted caller's client address: X-Forwarded-For walked hop by hop exactly as at the edge;
 * without one, the caller's single-address header (X-Real-IP, x-envoy-external-address).
 */
function clientOf(c: Caller, singleAddressHeader: string | null): string {
  const xff = c.headers['x-forwarded-for'];
  if (typeof xff === 'string' && xff !== '') return c.trustedProxies.clientAddress(c.peer, xff);
  if (singleAddressHeader !== null) {
    const one = single(c.headers[singleAddressHeader]);
    if (one !== undefined) {
      const ip = canonicalIp(one.trim());
      if (isIP(ip) !== 0) return ip;
    }
  }
  return c.peer;
}

/** A refused target's path for the access log: before any query or fragment, bounded (it may carry a token). */
export function pathForLog(target: string): string {
  let end = target.length;
  const q = target.indexOf('?');
  if (q >= 0) end = q;
  const hash = target.indexOf('#');
  if (hash >= 0 && hash < end) end = hash;
  const path = target.slice(0, Math.min(end, 256));
  return path.charCodeAt(0) === 47 /* '/' */ ? path : '(not origin-form)';
}
