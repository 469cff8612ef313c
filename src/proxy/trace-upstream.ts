/**
 * The upstream call's CLIENT span and the trace headers of the forwarded request (docs/tracing.md),
 * only when the request has a span (tracing on). The upstream sees our CLIENT span as its parent
 * (W3C traceparent), in the client's trace when a trusted peer started it, else in a new one:
 * whatever traceparent/tracestate the client sent does not reach it.
 */
import type { ChildSpan, RequestSpan } from '../observe/tracing/tracing.js';
import { replaceTraceHeaders } from '../observe/tracing/traceparent.js';

/** Starts the span and rewrites `headers` (the flat list undici sends) to carry it. */
export function traceUpstream(trace: RequestSpan, method: string, route: string, headers: string[]): ChildSpan {
  const span = trace.child(method, { 'http.request.method': method, 'portcullis.route': route });
  replaceTraceHeaders(headers, span.traceparent(), span.tracestate());
  return span;
}

/** A WebSocket upgrade has no CLIENT span (its life is the socket's): the upstream's parent is the request span. */
export function traceUpgrade(trace: RequestSpan, headers: string[]): void {
  replaceTraceHeaders(headers, trace.traceparent(), trace.tracestate());
}
