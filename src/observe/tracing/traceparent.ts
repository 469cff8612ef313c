/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) on the wire: reading a traceparent we
 * were sent and putting ours on the forwarded request. Plain string work, no SDK: it runs only
 * when tracing is on, and a header we will not believe must cost no allocation.
 */

export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

/** version "00": exactly 2-32-16-2 lowercase hex digits (§3.2.2); later versions may append "-…". */
const TRACEPARENT_RE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

export interface ParentContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
}

/** The parent a traceparent names, or null when it is malformed (§3.2.2.x: then start a new trace). */
export function parseTraceparent(value: string | undefined): ParentContext | null {
  if (value === undefined || value.length > 512) return null;
  const m = TRACEPARENT_RE.exec(value);
  if (m === null) return null;
  const version = m[1]!;
  // "ff" is forbidden; version 00 has nothing after the flags (§3.2.4: a later version may).
  if (version === 'ff' || (version === '00' && m[5] !== undefined)) return null;
  const traceId = m[2]!;
  const spanId = m[3]!;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null;
  return { traceId, spanId, sampled: (parseInt(m[4]!, 16) & 1) === 1 };
}

export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return '00-' + traceId + '-' + spanId + (sampled ? '-01' : '-00');
}

/**
 * The forwarded request's trace headers: whatever traceparent/tracestate the client sent (kept by
 * the header builder, PRODUCT §4 says "traceparent unchanged" for a gateway that does not trace)
 * give way to ours, whose parent is the upstream CLIENT span. In place on the flat
 * [name, value, …] list undici takes.
 */
export function replaceTraceHeaders(headers: string[], traceparent: string, tracestate: string | null): void {
  let w = 0;
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i]!.toLowerCase();
    if (lower === TRACEPARENT || lower === TRACESTATE) continue;
    headers[w] = headers[i]!;
    headers[w + 1] = headers[i + 1]!;
    w += 2;
  }
  headers.length = w;
  headers.push(TRACEPARENT, traceparent);
  if (tracestate !== null && tracestate !== '') headers.push(TRACESTATE, tracestate);
}
