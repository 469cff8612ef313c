/**
 * The terminal step of the forward-auth shape (PRODUCT §1.11, §5): where the edge forwards, the
 * auth listener answers — an allow, or the denial a stage returned, in the form each caller
 * understands.
 *
 * Allow is exactly 200 with an empty body: Envoy's ext_authz HTTP service treats any other status,
 * other 2xx included, as a denial (envoy ext_authz.proto, HttpService: "On authorization response
 * status HTTP 200 OK, the filter will allow traffic"). It carries the route's identity headers from
 * the verified claims, X-Request-Id, the cache headers of cache.ts and — for the callers that can
 * hand them to their client — the RateLimit fields a stage added (ctx.responseHeaders):
 * - NGINX: auth_request_set + `add_header … always` (config/nginx/nginx.conf);
 * - Envoy: `allowed_client_headers_on_success` (config/envoy/envoy.yaml);
 * - HAProxy: config/haproxy/portcullis-auth.lua keeps them in txn vars for `http-response set-header`;
 * - not Traefik: ForwardAuth copies an allow's headers only onto the request to the backend
 *   (authResponseHeaders), where response fields mean nothing, so a /traefik allow leaves them out.
 *   Its denials keep them: Traefik returns a denial to the client as it is.
 */
import type { Respond } from '../contract/types.js';
import { addResponseHeader, errorCodeFor } from '../contract/respond.js';
import { appendIdentityHeaders } from '../proxy/identity-headers.js';
import type { CompiledRoute } from '../route/compiled-route.js';
import type { RequestCtx } from '../pipeline/context.js';
import type { CachePolicy } from './cache.js';

export type CallerKind = 'nginx' | 'traefik' | 'envoy' | 'haproxy';

/** The allow of every non-cacheable answer: sendRespond adds `Cache-Control: no-store` and Content-Length: 0. */
const ALLOW: Respond = Object.freeze({ kind: 'respond', status: 200, decision: 'allow' });

/** Answers NGINX's auth_request passes through rather than turning into a 500 (see forNginx). */
const NGINX_PASSES = new Set([401, 403]);

/** Envoy's ext_authz HTTP service removes the request headers named here before the upstream (ext_authz.proto, headers_to_remove). */
export const ENVOY_HEADERS_TO_REMOVE = 'x-envoy-auth-headers-to-remove';

/**
 * The same list for HAProxy: config/haproxy/portcullis-auth.lua deletes each request header named
 * here before the backend (HAProxy, like Envoy, passes a client's alias spellings on).
 */
export const HAPROXY_HEADERS_TO_REMOVE = 'x-portcullis-remove-headers';

/**
 * The normalised path of an allowed request (PRODUCT §1.4), which portcullis-auth.lua puts on the
 * request to the backend: HAProxy forwards the URI it received, and `/admin/../public` must reach
 * the backend as the `/public` that was allowed.
 */
export const HAPROXY_PATH = 'x-portcullis-path';

/** NGINX's copy of the real status of every /nginx answer, allow included. */
export const X_AUTH_STATUS = 'x-auth-status';

export function allowAnswer(
  ctx: RequestCtx, route: CompiledRoute, kind: CallerKind, spoofed: readonly string[] | null, cache: CachePolicy,
): Respond {
  // See the file comment: nothing here reaches Traefik's client — but a session cookie the check
  // rewrote (session/sign-in.ts), which Traefik's addAuthCookiesToResponse hands on.
  if (kind === 'traefik') ctx.responseHeaders = cookiesOnly(ctx.responseHeaders);
  const extra = ctx.responseHeaders ?? (ctx.responseHeaders = []);
  appendIdentityHeaders(extra, ctx.identity, route.identityHeaders, ctx.clientCert);
  // The identity token: one more identity header for the caller to pass to its upstream.
  if (ctx.upstreamHeaders !== null) for (const h of ctx.upstreamHeaders) extra.push(h);
  if (kind === 'nginx') addResponseHeader(ctx, X_AUTH_STATUS, '200');
  else if (kind === 'envoy' || kind === 'haproxy') {
    const remove = envoyRemovals(spoofed, route);
    if (remove !== null) addResponseHeader(ctx, kind === 'envoy' ? ENVOY_HEADERS_TO_REMOVE : HAPROXY_HEADERS_TO_REMOVE, remove);
    if (kind === 'haproxy') addResponseHeader(ctx, HAPROXY_PATH, ctx.path);
  }
  const cacheControl = cache.allowCacheControl(route, ctx.identity, Date.now() / 1000);
  if (cacheControl === null) return ALLOW;
  return { kind: 'respond', status: 200, decision: 'allow', headers: { 'cache-control': cacheControl, vary: cache.vary } };
}

/**
 * What Envoy (and HAProxy) must remove from the request before its upstream. allowed_upstream_headers overwrites
 * only the headers an allow carries: a client's copy of one whose claim is absent, or an alias
 * spelling (x.user.id), would reach the upstream. And `forwardAuthorization: false` means the
 * upstream gets no Authorization or token header, as at the edge (the token cookie cannot be cut
 * out of Cookie this way: docs/forward-auth.md).
 */
function envoyRemovals(spoofed: readonly string[] | null, route: CompiledRoute): string | null {
  const strip = route.credentialStrip;
  if (strip === null) return spoofed === null ? null : spoofed.join(', ');
  return [...(spoofed ?? []), ...strip.headers].join(', ');
}

/**
 * A denial for `/nginx`. NGINX auth_request: "If the subrequest returns a 2xx response code, the
 * access is allowed. If it returns 401 or 403, the access is denied with the corresponding error
 * code. Any other response code returned by the subrequest is considered an error" — a 500 for the
 * client. So 401 and 403 go as they are and every other denial (429, 404, 400, 503 …) becomes 403,
 * each with its real status in X-Auth-Status, from which config/nginx/nginx.conf's error_page
 * location answers the client (auth_request_set $auth_status $upstream_http_x_auth_status).
 * Retry-After, WWW-Authenticate and the RateLimit fields go along unchanged.
 */
export function forNginx(ctx: RequestCtx, r: Respond): Respond {
  if (r.status === 302 && r.headers?.['location'] !== undefined) return nginxSignIn(ctx, r.headers['location']);
  addResponseHeader(ctx, X_AUTH_STATUS, String(r.status));
  if (NGINX_PASSES.has(r.status)) return r;
  return { kind: 'respond', status: 403, decision: r.decision, error: r.error ?? errorCodeFor(r.status), headers: r.headers };
}

/** Where config/nginx/nginx.conf's `@signin` location sends a browser (auth_request_set from this header). */
export const X_AUTH_REDIRECT = 'x-auth-redirect';

/**
 * A browser without a session on a login route (session/stage.ts answers 302): auth_request can
 * pass on only 401/403, so NGINX gets 401 with the sign-in location in X-Auth-Redirect, and its
 * `error_page 401 = @signin` redirects the browser there (docs/sign-in.md). An API request's 401
 * carries no X-Auth-Redirect, and the same location answers it 401.
 */
function nginxSignIn(ctx: RequestCtx, location: string): Respond {
  addResponseHeader(ctx, X_AUTH_STATUS, '401');
  return { kind: 'respond', status: 401, decision: 'unauthenticated', error: 'sign_in_required', headers: { [X_AUTH_REDIRECT]: location } };
}

function cookiesOnly(headers: string[] | null): string[] | null {
  if (headers === null) return null;
  const kept: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === 'set-cookie') kept.push(headers[i]!, headers[i + 1]!);
  return kept.length === 0 ? null : kept;
}
