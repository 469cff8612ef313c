/**
 * `/envoy/<original path>`: Envoy's ext_authz HTTP filter with `path_prefix: /envoy` (PRODUCT §5).
 *
 * Envoy's HTTP authorization request keeps the original method and appends the original `:path`
 * (query included) to `path_prefix`; it carries only Host, Method, Path, Content-Length and
 * Authorization unless `allowed_headers` lists more (envoy ext_authz.proto, `allowed_headers`),
 * which config/envoy/envoy.yaml does for Cookie, X-Forwarded-For/-Proto, x-envoy-external-address
 * and the identity headers a client might spoof. Its body is empty (Content-Length: 0) unless
 * `with_request_body` is set, which the forward-auth shape never reads.
 */
import { complete, fail, knownMethod, type Caller, type Original, type Trusting } from './original.js';

export const ENVOY_PREFIX = '/envoy';

/**
 * The check request's Host is the original :authority, and Envoy sets no X-Forwarded-Host: one
 * there would be the client's, so it is never read. The client address: x-forwarded-for, which
 * Envoy extends with the downstream peer, else x-envoy-external-address (Envoy's own verdict).
 */
const TRUSTING: Trusting = { addressHeader: 'x-envoy-external-address', forwardedHost: false, forwardedPort: false };

/**
 * `url` is the check request's own target and starts with `/envoy/`. The prefix is cut off before
 * normalising, so `/envoy/../x` is the original `/../x` (refused: above the root), never `/x`.
 */
export function readEnvoy(c: Caller, method: string | undefined, url: string): Original {
  const m = knownMethod(method);
  if (m === null) return fail('bad_original_method');
  return complete(c, m, url.slice(ENVOY_PREFIX.length), TRUSTING);
}
