/**
 * Request methods as metric labels and log fields (issue 22 item 3). HTTP/2 carries any token in
 * `:method`, and each distinct value would be a new `portcullis_requests_total` series, kept
 * forever: 4,000 distinct 8 KB methods cost 73 MB and a 31 MB /metrics. So labels come from a
 * fixed set, and everything else is answered 400 before routing (edge/handler.ts), as the
 * forward-auth endpoints answer an unknown original method (forward-auth/original.ts).
 */
import { METHODS } from 'node:http';

/**
 * The methods Node's HTTP/1.1 parser accepts (RFC 9110 plus WebDAV, CalDAV …): the ones the
 * gateway serves on every protocol; HTTP/1.1 clients cannot send others at all.
 */
const KNOWN: ReadonlySet<string> = new Set(METHODS);

/**
 * RFC 9110 §9 and PATCH (RFC 5789): also every method a route's `match.methods` may name. Written
 * out rather than imported from config/schema.ts's HTTP_METHODS because observe/ imports nothing
 * of ours (docs/architecture.md); test/observe/method-label.test.ts checks the two lists agree.
 */
export const LABELLED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'] as const;
const LABELLED: ReadonlySet<string> = new Set(LABELLED_METHODS);

export const OTHER_METHOD = 'other';

export function isKnownMethod(method: string | undefined): method is string {
  return method !== undefined && KNOWN.has(method);
}

/** The `method` label of the request metrics: one of the standard methods, else `other`. */
export function methodLabel(method: string): string {
  return LABELLED.has(method) ? method : OTHER_METHOD;
}

/** The access log's `method`: any method the gateway serves (a bounded set), else `other`. */
export function methodForLog(method: string): string {
  return KNOWN.has(method) ? method : OTHER_METHOD;
}
