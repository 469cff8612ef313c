/**
 * A Check call's CheckRequest → the original request, read by the rules of `/envoy`
 * (forward-auth/envoy.ts, original.ts), so both transports decide the same request the same way.
 *
 * Over HTTP Envoy sends the original method, `:path` (query included) after `/envoy`, the
 * `:authority` as Host and the request headers. Over gRPC the same facts arrive as fields:
 * `attributes.request.http.{method, path, host, scheme, headers}` (or `header_map` with
 * Envoy's `encode_raw_headers`). They become the same header object the HTTP adapter sees, and
 * `complete()` applies the same trust rule: method and URI are the question; the client address,
 * scheme and host are claims, believed only from a caller inside `server.trustedProxies` — here
 * the gRPC peer, i.e. Envoy. From a trusted Envoy without X-Forwarded-For or
 * x-envoy-external-address, `source.address` (Envoy's own view of the downstream) names the
 * client.
 *
 * Envoy leaves `query` and `fragment` empty (the query is in `path`; attribute_context.proto), so
 * they are not read. Bad input is a 400 with a reason (never a throw): a header name that is not
 * an RFC 9110 token, a value with CR, LF or NUL, headers over `server.limits.maxHeaderBytes`
 * (431, as Node's parser answers the HTTP endpoint).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { canonicalIp } from '../../route/client-ip.js';
import { complete, fail, knownMethod, type Caller, type Original, type Trusting } from '../original.js';
import type { CheckRequestMessage, HeaderValueMessage, HttpRequestMessage } from './messages.js';

/** As /envoy: the original Host is Envoy's own statement; an X-Forwarded-Host would be the client's. */
const TRUSTING: Trusting = { addressHeader: 'x-envoy-external-address', forwardedHost: false, forwardedPort: false };

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const BAD_VALUE = /[\r\n\0]/;

export interface CheckHeaders {
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
}

/** What a Check call asks, or why it cannot be read. */
export type ReadCheck =
  | { readonly ok: true; readonly original: Original; readonly seen: CheckHeaders }
  | { readonly ok: false; readonly original: Original & { ok: false }; readonly status: 400 | 431 };

/** The gRPC client (Envoy): `peer` canonical, `listenerProto` 'https' when the gRPC port speaks TLS. */
export type CheckCaller = Omit<Caller, 'headers'>;

export function readCheck(msg: CheckRequestMessage, caller: CheckCaller, maxHeaderBytes: number): ReadCheck {
  const http = msg.attributes?.request?.http;
  if (http === undefined) return refused(fail('missing_original_request'));
  const seen = headersOf(http, maxHeaderBytes);
  if (typeof seen === 'string') return refused(fail(seen, pathOf(http)), seen === 'headers_too_large' ? 431 : 400);
  const method = knownMethod(http.method);
  if (method === null) return refused(fail(http.method === undefined ? 'missing_original_method' : 'bad_original_method', pathOf(http)));
  if (http.path === undefined || http.path === '') return refused(fail('missing_original_uri'));
  const listenerProto = caller.trusted ? schemeOf(http, caller.listenerProto) : caller.listenerProto;
  let original = complete({ ...caller, headers: seen.headers, listenerProto }, method, http.path, TRUSTING);
  if (!original.ok) return refused(original);
  if (caller.trusted && seen.headers['x-forwarded-for'] === undefined && seen.headers['x-envoy-external-address'] === undefined) {
    const source = sourceAddress(msg);
    if (source !== null) original = { ...original, clientIp: source };
  }
  return { ok: true, original, seen };
}

function refused(original: Original, status: 400 | 431 = 400): ReadCheck {
  return { ok: false, original: original as Original & { ok: false }, status };
}

/** Envoy's `:scheme`, believed (from a trusted caller) only when there is no X-Forwarded-Proto: complete() reads that first. */
function schemeOf(http: HttpRequestMessage, fallback: string): string {
  return http.scheme === 'https' || http.scheme === 'http' ? http.scheme : fallback;
}

function pathOf(http: HttpRequestMessage): string {
  const p = http.path ?? '';
  const q = p.indexOf('?');
  const path = (q >= 0 ? p.slice(0, q) : p).slice(0, 256);
  return path.charCodeAt(0) === 47 /* '/' */ ? path : '(no original uri)';
}

/**
 * The header object the stages read (as node:http builds one: lower-case names, duplicates
 * joined) and every copy as sent (rawHeaders, for the WAF). Pseudo-headers are left out: their
 * facts arrive as fields. `host` is the `host` field, the original `:authority`.
 */
function headersOf(http: HttpRequestMessage, maxHeaderBytes: number): CheckHeaders | string {
  const headers: IncomingHttpHeaders = {};
  const rawHeaders: string[] = [];
  let bytes = 0;
  const add = (rawName: string, value: string): string | null => {
    const name = rawName.toLowerCase();
    if (name.charCodeAt(0) === 58 /* ':' */) return null;
    if (!TOKEN.test(name) || name === '__proto__') return 'bad_original_header';
    if (BAD_VALUE.test(value)) return 'bad_original_header';
    bytes += name.length + value.length + 4;
    if (bytes > maxHeaderBytes) return 'headers_too_large';
    rawHeaders.push(name, value);
    const had = headers[name];
    headers[name] = had === undefined ? value : String(had) + (name === 'cookie' ? '; ' : ', ') + value;
    return null;
  };
  const list = http.header_map?.headers;
  if (list !== undefined && list.length > 0) {
    for (const h of list) {
      const problem = add(h.key ?? '', valueOf(h));
      if (problem !== null) return problem;
    }
  } else if (http.headers !== undefined) {
    for (const name of Object.keys(http.headers)) {
      const problem = add(name, http.headers[name]!);
      if (problem !== null) return problem;
    }
  }
  if (http.host !== undefined && http.host !== '') {
    if (BAD_VALUE.test(http.host)) return 'bad_original_host';
    headers.host = http.host;
  }
  return { headers, rawHeaders };
}

/** encode_raw_headers sends raw_value (bytes); read as latin1, byte for byte, as node:http reads a header. */
function valueOf(h: HeaderValueMessage): string {
  if (h.raw_value !== undefined && h.raw_value.length > 0) return h.raw_value.toString('latin1');
  return h.value ?? '';
}

function sourceAddress(msg: CheckRequestMessage): string | null {
  const a = msg.attributes?.source?.address?.socket_address?.address;
  if (a === undefined) return null;
  const ip = canonicalIp(a);
  return isIP(ip) !== 0 ? ip : null;
}
