/**
 * Denials (PRODUCT §1): a small JSON body `{"error":"<code>","requestId":"…"}`
 * that never echoes tokens, rule contents or internal errors, and the
 * `X-Request-Id` every response carries.
 */
import type { ServerResponse } from 'node:http';
import type { Respond } from './types.js';

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
export function sendRespond(res: ServerResponse, requestId: string, r: Respond, closeConnection = false): number {
  if (res.headersSent || res.destroyed) return 0;
  const body = r.status === 200 ? '' : denialBody(r.error ?? errorCodeFor(r.status), requestId);
  const headers: Record<string, string | number> = {
    'x-request-id': requestId,
    'cache-control': 'no-store',
  };
  if (body !== '') {
    headers['content-type'] = 'application/json';
  }
  headers['content-length'] = Buffer.byteLength(body);
  if (r.headers !== undefined) for (const name in r.headers) headers[name] = r.headers[name]!;
  // A body we did not read (413, early denials of uploads) must not be parsed as the next request.
  if (closeConnection) headers['connection'] = 'close';
  res.writeHead(r.status, headers);
  res.end(body);
  return headers['content-length'];
}
