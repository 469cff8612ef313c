/**
 * The headers the route's stages see in the forward-auth shape: the caller's request headers
 * (the original request's headers plus what the caller added) minus the caller's own statement
 * of the request line — X-Original-URI, X-Forwarded-Uri, … That is the question, already read
 * into ctx.method / ctx.path / ctx.query; a WAF inspecting it again as a header would count the
 * URI twice. Everything else is left as the edge shape leaves it for its stages.
 *
 * Spoofed identity headers (PRODUCT §4): the same InjectableHeaders test as the edge's sanitiser
 * (every identityHeaders name of every route, X-Auth-Request-*, alias spellings such as
 * `X_User_Id` or `x.user.id`) finds the copies a client sent. The gateway does not forward here,
 * so it cannot drop them itself: the caller must. Envoy is told per request
 * (x-envoy-auth-headers-to-remove, allow.ts); NGINX and Traefik do it by config
 * (config/nginx, config/traefik; docs/forward-auth.md).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { InjectableHeaders } from '../route/sanitise.js';

export interface StageHeaders {
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  /** Lowercased names of injectable headers the caller's request carried; null when none. */
  readonly spoofed: string[] | null;
}

export function stageHeaders(
  headers: IncomingHttpHeaders, rawHeaders: readonly string[], injectable: InjectableHeaders, meta: ReadonlySet<string>,
): StageHeaders {
  const out: IncomingHttpHeaders = {};
  let spoofed: string[] | null = null;
  for (const name in headers) {
    if (meta.has(name)) continue;
    if (injectable.has(name)) (spoofed ??= []).push(name);
    out[name] = headers[name];
  }
  const raw: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (!meta.has(rawHeaders[i]!.toLowerCase())) raw.push(rawHeaders[i]!, rawHeaders[i + 1]!);
  }
  return { headers: out, rawHeaders: raw, spoofed };
}
