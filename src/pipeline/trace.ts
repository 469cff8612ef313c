/**
 * The request's SERVER span (docs/tracing.md): started once the exchange knows its peer, by both
 * shapes and by the gRPC Check call; ended by Gateway.finish. Called only when tracing is on
 * (`gateway.tracing.enabled`), so a gateway without tracing never reaches this file at request time.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { addResponseHeader } from '../contract/respond.js';
import { TRACEPARENT } from '../observe/tracing/traceparent.js';
import type { RequestSpan, Tracing } from '../observe/tracing/tracing.js';
import type { RequestCtx } from './context.js';
import type { Exchange } from './exchange.js';

/**
 * A traceparent/tracestate is continued only from a trusted peer (`tracing.trustParentFrom`);
 * anyone else's is ignored here and replaced on the forwarded request (proxy/), so a client
 * cannot join our spans to a trace of its choosing nor pick the upstream's parent.
 *
 * `headers` are where the peer's trace context is read: the HTTP request's own, or for a gRPC
 * Check the original request's (attributes.request.http), where Envoy puts its traceparent.
 */
export function startSpan(tracing: Tracing, ctx: RequestCtx, peer: string, peerTrusted: boolean, headers: IncomingHttpHeaders): RequestSpan {
  const believed = tracing.trustsParent(peer, peerTrusted);
  const span = tracing.startRequest({
    method: ctx.method, scheme: ctx.proto, host: ctx.host, clientIp: ctx.clientIp, requestId: ctx.id, shape: ctx.shape,
    traceparent: believed ? single(headers.traceparent) : undefined,
    tracestate: believed ? single(headers.tracestate) : undefined,
  });
  ctx.trace = span;
  return span;
}

export function startRequestTrace(x: Exchange): void {
  const ctx = x.ctx;
  const span = startSpan(x.gateway.tracing, ctx, x.peer, x.peerTrusted, x.req.headers);
  // Forward auth: the caller (NGINX, Traefik, Envoy) gets our span on every answer, to log it
  // or to pass it on to its upstream, so its request and our decision can be found together.
  if (ctx.shape === 'forward-auth') addResponseHeader(ctx, TRACEPARENT, span.traceparent());
}

/** Node joins repeated unknown headers with ", ": a repeated traceparent then fails to parse, as W3C §3.2.1 wants. */
function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}
