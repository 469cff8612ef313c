/**
 * Header lists for the upstream request and the client response
 * (PRODUCT §4). Built in one pass over Node's rawHeaders as a flat
 * `[name, value, …]` array, which undici takes as is.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { connectionListed, isDroppedHeader, isHopByHop, type InjectableHeaders } from '../route/sanitise.js';
import type { CompiledRoute } from '../route/compiled-route.js';
import type { RequestContext } from '../contract/types.js';
import { appendIdentityHeaders } from './identity-headers.js';
import { h2ToHttp1RawHeaders, isH2RawHeaders } from '../tls/h2-headers.js';

export interface ForwardingFacts {
  /** The direct peer (socket address). */
  readonly peer: string;
  /** Whether the peer is a trusted proxy: its X-Forwarded-* are believed and extended. */
  readonly peerTrusted: boolean;
}

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === '' ? undefined : v;
}

export function buildUpstreamHeaders(
  rawHeaders: readonly string[], ctx: RequestContext, route: CompiledRoute,
  injectable: InjectableHeaders, facts: ForwardingFacts,
): string[] {
  // HTTP/2: no pseudo-headers upstream, Host from :authority, one Cookie (tls/h2-headers.ts).
  if (isH2RawHeaders(rawHeaders)) rawHeaders = h2ToHttp1RawHeaders(rawHeaders);
  const headers = ctx.headers;
  const listed = connectionListed(firstValue(headers.connection));
  const remove = route.removeHeaders;
  const replaced = route.replacedHeaders;
  // forwardAuthorization: false — token headers and the token cookie go too (src/auth/strip.ts).
  const strip = route.credentialStrip;
  let authorizationSeen = false;
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (isDroppedHeader(lower, injectable, listed)) continue;
    if (remove !== null && remove.has(lower)) continue;
    if (replaced !== null && replaced.has(lower)) continue;
    if (lower === 'authorization' && !route.forwardAuthorization) continue;
    if (lower === 'authorization') {
      // Node keeps only the first Authorization in req.headers, and that is the one the auth stage
      // verified: a second copy must not carry another identity to the upstream.
      if (authorizationSeen) continue;
      authorizationSeen = true;
    }
    if (strip !== null) {
      if (strip.headers.has(lower)) continue;
      if (lower === 'cookie' && strip.stripsCookies) {
        const kept = strip.cookie(rawHeaders[i + 1]!);
        if (kept !== null) out.push(name, kept);
        continue;
      }
    }
    out.push(name, rawHeaders[i + 1]!);
  }
  // X-Forwarded-For: extend a trusted chain hop by hop, else start a new one.
  const xff = firstValue(headers['x-forwarded-for']);
  out.push('x-forwarded-for', facts.peerTrusted && xff ? xff + ', ' + facts.peer : facts.peer);
  out.push('x-forwarded-proto', ctx.proto);
  // An HTTP/1.0 request may come without Host (pipeline/host.ts): then there is no host to
  // forward, and an empty field would read as "the empty host" to an upstream building URLs.
  const xfh = facts.peerTrusted ? firstValue(headers['x-forwarded-host']) : undefined;
  const forwardedHost = nonEmpty(xfh) ?? nonEmpty(firstValue(headers.host)) ?? nonEmpty(firstValue(headers[':authority'])) ?? nonEmpty(ctx.host);
  if (forwardedHost !== undefined) out.push('x-forwarded-host', forwardedHost);
  out.push('x-request-id', ctx.id);
  for (const [name, value] of route.setHeaders) out.push(name, value);
  appendIdentityHeaders(out, ctx.identity, route.identityHeaders, ctx.clientCert ?? null);
  // The identity token (identity-token/): the client's copies were dropped with the identity headers.
  const added = ctx.upstreamHeaders;
  if (added != null) for (const h of added) out.push(h);
  return out;
}

/** Response headers from the upstream, minus hop-by-hop ones, plus our request id. */
export function buildResponseHeaders(upstream: IncomingHttpHeaders, requestId: string): Record<string, string | string[]> {
  const listed = connectionListed(firstValue(upstream.connection));
  const out: Record<string, string | string[]> = {};
  for (const name in upstream) {
    if (isHopByHop(name) || (listed !== null && listed.has(name))) continue;
    const value = upstream[name];
    if (value !== undefined) out[name] = value;
  }
  out['x-request-id'] = requestId;
  return out;
}
