/**
 * `/haproxy`: HAProxy's Lua auth-request action (config/haproxy/portcullis-auth.lua) and
 * haproxy-ingress's `auth-url` (PRODUCT §5; docs/forward-auth.md, "HAProxy").
 *
 * HAProxy has no auth subrequest of its own: a Lua action makes the check with core.httpclient and
 * sees the whole answer, so — unlike NGINX's auth_request, which turns anything but 2xx/401/403
 * into a 500 — every status reaches HAProxy as it is. That is why this is an endpoint of its own
 * rather than `/nginx`: a denial is sent in its real form (429 with Retry-After, 404, 400, 302 to
 * sign in), never mapped to 403 + X-Auth-Status.
 *
 * The original request is read from headers the shipped haproxy.cfg sets itself (set-header
 * replaces any client copy) before the action runs:
 * - method: X-Original-Method (`%[method]`); URI: X-Original-URI (`%[pathq]`), both required;
 * - host and scheme, from a trusted caller: X-Forwarded-Host (`%[req.hdr(host)]`) else Host, and
 *   X-Forwarded-Proto (original.ts);
 * - client, from a trusted caller: X-Forwarded-For walked as at the edge, else X-Real-IP (`%[src]`).
 * X-Original-URL is never read: no HAProxy config here writes it, so one that arrives is a
 * client's (the lesson of issue 22 §1), and it is refused rather than ignored so that a config
 * that lets it through is noticed.
 */
import { complete, fail, knownMethod, single, type Caller, type Original, type Trusting } from './original.js';

const TRUSTING: Trusting = { addressHeader: 'x-real-ip', forwardedHost: true, forwardedPort: false };

/** The headers this adapter consumes: not part of the original request the stages see. */
export const HAPROXY_META_HEADERS: readonly string[] = ['x-original-method', 'x-original-uri'];

/**
 * Every header `/haproxy` reads: the caller's config must set (or clear) each of them so that none
 * is left to its client (test/forward-auth/haproxy.test.ts holds config/haproxy/haproxy.cfg to it).
 */
export const HAPROXY_READ_HEADERS: readonly string[] = [
  ...HAPROXY_META_HEADERS, 'x-original-url', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-for', 'x-real-ip', 'x-request-id',
];

export function readHaproxy(c: Caller): Original {
  const h = c.headers;
  const method = knownMethod(single(h['x-original-method']));
  if (method === null) return fail(h['x-original-method'] === undefined ? 'missing_original_method' : 'bad_original_method');
  if (h['x-original-url'] !== undefined) return fail('original_url_not_trusted');
  const uri = single(h['x-original-uri']);
  if (uri === undefined) return fail('missing_original_uri');
  return complete(c, method, uri, TRUSTING);
}
