/**
 * `/nginx`: NGINX `auth_request` and ingress-nginx `auth-url` (PRODUCT §5).
 *
 * NGINX sends the auth subrequest to a location of its own config; nothing of the original
 * request line survives unless the config passes it (nginx.org ngx_http_auth_request_module:
 * "proxy_set_header X-Original-URI $request_uri"). The subrequest also carries every header of
 * the client's request, so a header the config does not set is one the client chose. Hence:
 * - method: X-Original-Method (required; ingress-nginx sets it too);
 * - URI: X-Original-URL when present — ingress-nginx always sets it (`$scheme://$http_host$request_uri`)
 *   but sets X-Original-URI only with `auth-method`, so an X-Original-URI next to it may be the
 *   client's own: it must then say the same path and query, or the request is refused. Without
 *   X-Original-URL, X-Original-URI (path and query, `$request_uri`: config/nginx/nginx.conf).
 * - host and scheme, from a trusted caller: the X-Original-URL's own — ingress-nginx does not set
 *   X-Forwarded-Host in its auth location, so one there came from the client — else
 *   X-Forwarded-Host / -Proto, else Host (original.ts);
 * - client: X-Forwarded-For, else X-Real-IP (trusted callers only).
 */
import { complete, fail, knownMethod, single, type Caller, type Original, type Trusting } from './original.js';
import { isValidHostValue } from '../server/host.js';

/** `http(s)://authority` of an absolute URL; the authority ends at the first '/', '?' or '#' (RFC 3986 §3.2). */
const ABSOLUTE_URL = /^(https?):\/\/([^/?#]*)/i;

const TRUSTING: Trusting = { addressHeader: 'x-real-ip', forwardedHost: true };

/** The headers this adapter consumes: not part of the original request the stages see. */
export const NGINX_META_HEADERS: readonly string[] = ['x-original-method', 'x-original-uri', 'x-original-url'];

export function readNginx(c: Caller): Original {
  const h = c.headers;
  const method = knownMethod(single(h['x-original-method']));
  if (method === null) return fail(h['x-original-method'] === undefined ? 'missing_original_method' : 'bad_original_method');
  const uri = single(h['x-original-uri']);
  const url = single(h['x-original-url']);
  if (url === undefined) return uri === undefined ? fail('missing_original_uri') : complete(c, method, uri, TRUSTING);
  const m = ABSOLUTE_URL.exec(url);
  if (m === null) return fail('bad_original_url');
  const authority = m[2]!;
  // Userinfo (`user:pass@host`) and anything else Host could not be: refused, never guessed at.
  if (!isValidHostValue(authority)) return fail('bad_original_url');
  const rest = url.slice(m[0].length);
  const target = rest.charCodeAt(0) === 47 /* '/' */ ? rest : '/' + rest;
  if (uri !== undefined && uri !== target) return fail('original_uri_mismatch');
  return complete(c, method, target, TRUSTING, authority, m[1]!.toLowerCase());
}
