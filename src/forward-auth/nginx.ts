/**
 * `/nginx`: NGINX `auth_request` and ingress-nginx `auth-url` (PRODUCT §5).
 *
 * NGINX sends the auth subrequest to a location of its own config; nothing of the original
 * request line survives unless the config passes it (nginx.org ngx_http_auth_request_module:
 * "proxy_set_header X-Original-URI $request_uri"). The subrequest also carries every header of
 * the client's request, so a header the config does not set is one the client chose: what is
 * read depends on which headers the caller is known to write (`listeners.auth.trustOriginalUrl`).
 *
 * - method: X-Original-Method (required; both callers set it).
 * - trustOriginalUrl unset (the default): both callers work as PRODUCT §5 promises, and neither
 *   header can be turned against the other. X-Original-URI alone: as `false`. X-Original-URL
 *   alone (ingress-nginx, which never sets X-Original-URI in its auth location): as `true`. Both:
 *   one of them is the client's, and which one depends on the caller, so they must agree — the
 *   URL's path and query equal X-Original-URI and its host and scheme equal what `false` reads
 *   (X-Forwarded-Host / Host, X-Forwarded-Proto) — else 400 `original_url_mismatch`. A plain
 *   NGINX whose config does not clear X-Original-URL always sends X-Original-URI beside it, so
 *   a client's `X-Original-URL: http://status.example.com/…` cannot pick another host's routes.
 * - trustOriginalUrl false (config/nginx/nginx.conf): the URI is X-Original-URI (path and
 *   query, `$request_uri`); host and scheme, from a trusted caller, X-Forwarded-Host / Host and
 *   X-Forwarded-Proto (original.ts). An X-Original-URL is refused: this caller does not write it
 *   (the shipped config clears it), so it is the client's — believing its host let a client
 *   route itself onto another host's anonymous route (issue 22 §1).
 * - trustOriginalUrl true (ingress-nginx, which always overwrites X-Original-URL with
 *   `$scheme://$http_host$request_uri`): X-Original-URL is required and, from a trusted caller,
 *   its host and scheme win — ingress-nginx sets no X-Forwarded-Host in its auth location, so
 *   one there came from the client. It sets X-Original-URI only with `auth-method`, so an
 *   X-Original-URI next to the URL may be the client's own: it must say the same path and query.
 * - client: X-Forwarded-For, else X-Real-IP (trusted callers only).
 */
import { complete, fail, knownMethod, single, type Caller, type Original, type Trusting } from './original.js';
import { isValidHostValue } from '../pipeline/host.js';

/** `http(s)://authority` of an absolute URL; the authority ends at the first '/', '?' or '#' (RFC 3986 §3.2). */
const ABSOLUTE_URL = /^(https?):\/\/([^/?#]*)/i;

const TRUSTING: Trusting = { addressHeader: 'x-real-ip', forwardedHost: true, forwardedPort: true };

/** The headers this adapter consumes: not part of the original request the stages see. */
export const NGINX_META_HEADERS: readonly string[] = ['x-original-method', 'x-original-uri', 'x-original-url'];

/**
 * Every header `/nginx` reads, with either setting: a caller's config must set each of them
 * itself (or clear it) so that none is left to its client (test/forward-auth/nginx-conf.test.ts
 * holds config/nginx/nginx.conf to this list).
 */
export const NGINX_READ_HEADERS: readonly string[] = [
  ...NGINX_META_HEADERS, 'host', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-for', 'x-real-ip', 'x-request-id',
  // Read by the DPoP htu check (auth/dpop/htu.ts), not by the adapter itself.
  'x-forwarded-port',
];

export function readNginx(c: Caller, trustOriginalUrl: boolean | undefined): Original {
  const h = c.headers;
  const method = knownMethod(single(h['x-original-method']));
  if (method === null) return fail(h['x-original-method'] === undefined ? 'missing_original_method' : 'bad_original_method');
  const uri = single(h['x-original-uri']);
  if (trustOriginalUrl === false || (trustOriginalUrl === undefined && h['x-original-url'] === undefined)) {
    // Present at all, even empty: the caller does not write it, so a client did.
    if (h['x-original-url'] !== undefined) return fail('original_url_not_trusted');
    return uri === undefined ? fail('missing_original_uri') : complete(c, method, uri, TRUSTING);
  }
  const url = single(h['x-original-url']);
  if (url === undefined) return fail('missing_original_url');
  const m = ABSOLUTE_URL.exec(url);
  if (m === null) return fail('bad_original_url');
  const authority = m[2]!;
  // Userinfo (`user:pass@host`) and anything else Host could not be: refused, never guessed at.
  if (!isValidHostValue(authority)) return fail('bad_original_url');
  const rest = url.slice(m[0].length);
  const target = rest.charCodeAt(0) === 47 /* '/' */ ? rest : '/' + rest;
  if (uri !== undefined && uri !== target) return fail('original_uri_mismatch');
  const scheme = m[1]!.toLowerCase();
  if (trustOriginalUrl === true || uri === undefined) return complete(c, method, target, TRUSTING, authority, scheme);
  // Unset, both sent: the URL must name the very request that X-Original-URI and the headers do.
  const byHeaders = complete(c, method, uri, TRUSTING);
  if (!byHeaders.ok) return byHeaders;
  const byUrl = complete(c, method, target, TRUSTING, authority, scheme);
  if (!byUrl.ok || byUrl.host !== byHeaders.host || byUrl.proto !== byHeaders.proto) return fail('original_url_mismatch', byHeaders.path);
  return byHeaders;
}
