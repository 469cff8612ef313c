/**
 * `/traefik`: Traefik's ForwardAuth middleware (PRODUCT §5).
 *
 * Traefik sends a GET to the configured address carrying the original request's headers plus
 * X-Forwarded-Method, -Proto, -Host, -Uri and -For, which it sets from the request it received
 * (doc.traefik.io, middlewares/http/forwardauth: "the following request properties are provided
 * to the forward-auth target endpoint as X-Forwarded- headers"). Method and URI are required;
 * the host, scheme and client address are believed from a trusted caller only (original.ts).
 *
 * With `trustForwardHeader: true` Traefik passes on X-Forwarded-* that *its* client sent, the
 * URI and method included: only safe when every client reaches Traefik through a proxy that
 * overwrites them (docs/forward-auth.md), so config/traefik ships it false.
 */
import { complete, fail, knownMethod, single, type Caller, type Original, type Trusting } from './original.js';

/** Traefik's request to the auth server has the auth server's own Host: X-Forwarded-Host is the original. */
const TRUSTING: Trusting = { addressHeader: null, forwardedHost: true, forwardedPort: true };

export const TRAEFIK_META_HEADERS: readonly string[] = ['x-forwarded-method', 'x-forwarded-uri'];

export function readTraefik(c: Caller): Original {
  const h = c.headers;
  const method = knownMethod(single(h['x-forwarded-method']));
  if (method === null) return fail(h['x-forwarded-method'] === undefined ? 'missing_original_method' : 'bad_original_method');
  const uri = single(h['x-forwarded-uri']);
  if (uri === undefined) return fail('missing_original_uri');
  return complete(c, method, uri, TRUSTING);
}
