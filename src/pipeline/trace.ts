/**
 * The request's SERVER span (docs/tracing.md): started once the exchange knows its peer, by both
 * shapes; ended by Gateway.finish. Called only when tracing is on (`gateway.tracing.enabled`), so
 * a gateway without tracing never reaches this file at request time.
 */
import { addResponseHeader } from '../contract/respond.js';
import { TRACEPARENT } from '../observe/tracing/traceparent.js';
import type { Exchange } from './exchange.js';

/**
 * A traceparent/tracestate is continued only from a trusted peer (`tracing.trustParentFrom`);
 * anyone else's is ignored here and replaced on the forwarded request (proxy/), so a client
 * cannot join our spans to a trace of its choosing nor pick the upstream's parent.
 */
export function startRequestTrace(x: Exchange): void {
  const tracing = x.gateway.tracing;
  const ctx = x.ctx;
  const believed = tracing.trustsParent(x.peer, x.peerTrusted);
  const h = x.req.headers;
  const span = tracing.startRequest({
    method: ctx.method, scheme: ctx.proto, host: ctx.host, clientIp: ctx.clientIp, requestId: ctx.id, shape: ctx.shape,
    traceparent: believed ? single(h.traceparent) : undefined,
    tracestate: believed ? single(h.tracestate) : undefined,
  });
  ctx.trace = span;
  // Forward auth: the caller (NGINX, Traefik, Envoy) gets our span on every answer, to log it
  // or to pass it on to its upstream, so its request and our decision can be found together.
  if (ctx.shape === 'forward-auth') addResponseHeader(ctx, TRACEPARENT, span.traceparent());
}

/** Node joins repeated unknown headers with ", ": a repeated traceparent then fails to parse, as W3C §3.2.1 wants. */
function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}
