/**
 * How the sign-in endpoints answer: a redirect, a small HTML page, or a denial in the gateway's
 * usual JSON form (PRODUCT §1: `{"error":…,"requestId":…}`, never a token or an internal error).
 * Each answer carries the cookies the step set (ctx.responseHeaders), `Cache-Control: no-store`
 * and `Referrer-Policy: no-referrer` (the callback URL holds a code), and is logged by the
 * Exchange like any other request.
 */
import type { Decision } from '../contract/types.js';
import { appendResponseHeaders, denialBody } from '../contract/respond.js';
import type { Exchange } from '../pipeline/exchange.js';

/**
 * The pages need nothing but their own form. No `form-action`: browsers apply it to the redirects
 * after the submission too, and sign-out's goes on to the provider's end_session_endpoint.
 */
const PAGE_CSP = "default-src 'none'; frame-ancestors 'none'";

function send(x: Exchange, status: number, decision: Decision, headers: Record<string, string | string[] | number>, body: string): void {
  const res = x.res;
  x.decision = decision;
  if (res.headersSent || res.destroyed) return;
  headers['x-request-id'] = x.ctx.id;
  headers['cache-control'] = 'no-store';
  headers['referrer-policy'] = 'no-referrer';
  headers['x-content-type-options'] = 'nosniff';
  headers['content-length'] = Buffer.byteLength(body);
  appendResponseHeaders(headers, x.ctx.responseHeaders);
  // An unread request body would be parsed as the next request.
  if (!x.req.complete && !('stream' in res)) headers['connection'] = 'close';
  res.writeHead(status, headers);
  res.end(x.req.method === 'HEAD' ? undefined : body);
  x.bytesOut += Buffer.byteLength(body);
}

export function redirect(x: Exchange, location: string, decision: Decision = 'allow'): void {
  send(x, 302, decision, { location }, '');
}

export function deny(x: Exchange, status: number, decision: Decision, code: string): void {
  send(x, status, decision, { 'content-type': 'application/json' }, denialBody(code, x.ctx.id));
}

export function page(x: Exchange, html: string): void {
  send(x, 200, 'allow', { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': PAGE_CSP }, html);
}

/** One query parameter: null when absent, undefined when repeated (refused: which one would count?). */
export function single(params: URLSearchParams, name: string): string | null | undefined {
  const all = params.getAll(name);
  if (all.length === 0) return null;
  return all.length === 1 ? all[0]! : undefined;
}

/** Text for HTML: the characters that matter in content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
