/**
 * Denials (PRODUCT §1): a small JSON body `{"error":"<code>","requestId":"…"}`
 * that never echoes tokens, rule contents or internal errors, and the
 * `X-Request-Id` every response carries.
 */
import type { ServerResponse } from 'node:http';
import type { RequestContext, Respond } from './types.js';

/** A target that did not normalise (PRODUCT §1.4), or a forward-auth caller's missing or bad original request. */
export const BAD_REQUEST: Respond = Object.freeze({ kind: 'respond', status: 400, decision: 'bad_request', error: 'bad_request' });
/** No route (PRODUCT §1.5: deny by default). */
export const NO_ROUTE: Respond = Object.freeze({ kind: 'respond', status: 404, decision: 'no_route', error: 'not_found' });
/** A bug in the pipeline (STYLE §4 Errors): the generic answer, details only in the log. */
export const INTERNAL_ERROR: Respond = Object.freeze({ kind: 'respond', status: 500, decision: 'upstream_error', error: 'internal_error' });

/** Adds a header to the response the request will end with, allowed or denied (ctx.responseHeaders). */
export function addResponseHeader(ctx: RequestContext, name: string, value: string): void {
  if (ctx.responseHeaders === null) ctx.responseHeaders = [name, value];
  else ctx.responseHeaders.push(name, value);
}

/**
 * Appends stage-added headers to a header object about to be written; a name already there
 * (an upstream's own RateLimit field) keeps its value and gains ours as another field line.
 */
export function appendResponseHeaders(out: Record<string, string | string[] | number>, extra: readonly string[] | null): void {
  if (extra === null) return;
  for (let i = 0; i < extra.length; i += 2) {
    const name = extra[i]!;
    const value = extra[i + 1]!;
    const had = out[name];
    if (had === undefined) out[name] = value;
    else if (Array.isArray(had)) out[name] = [...had, value]; // a copy: `had` may be the upstream's own array
    else out[name] = [String(had), value];
  }
}

const DEFAULT_CODES: Readonly<Record<number, string>> = {
  400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed',
  408: 'request_timeout', 413: 'payload_too_large', 429: 'rate_limited', 431: 'headers_too_large',
  500: 'internal_error', 502: 'bad_gateway', 503: 'unavailable', 504: 'gateway_timeout',
};

export function errorCodeFor(status: number): string {
  return DEFAULT_CODES[status] ?? (status >= 500 ? 'internal_error' : 'bad_request');
}

/** The JSON body; both parts are from fixed alphabets (codes are constants, ids are validated). */
export function denialBody(code: string, requestId: string): string {
  return '{"error":"' + code + '","requestId":"' + requestId + '"}';
}

/** Writes the denial; returns the body bytes written (0 when the response was already under way). */
export function sendRespond(
  res: ServerResponse, requestId: string, r: Respond, closeConnection = false, extra: readonly string[] | null = null,
): number {
  if (res.headersSent || res.destroyed) return 0;
  const body = r.status === 200 ? '' : denialBody(r.error ?? errorCodeFor(r.status), requestId);
  const headers: Record<string, string | string[] | number> = {
    'x-request-id': requestId,
    'cache-control': 'no-store',
  };
  if (body !== '') {
    headers['content-type'] = 'application/json';
  }
  const length = Buffer.byteLength(body);
  headers['content-length'] = length;
  if (r.headers !== undefined) for (const name in r.headers) headers[name] = r.headers[name]!;
  appendResponseHeaders(headers, extra);
  // A body we did not read (413, early denials of uploads) must not be parsed as the next request.
  // HTTP/2 has no such hazard and forbids the field (RFC 9113 §8.2.2): ending the stream is enough.
  if (closeConnection && !('stream' in res)) headers['connection'] = 'close';
  res.writeHead(r.status, headers);
  res.end(body);
  return length;
}
