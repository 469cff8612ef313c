/**
 * The access-log line (PRODUCT §6): one JSON object per request with the
 * normative field names. Query strings, tokens, cookies and Authorization
 * never appear: `path` is the normalised path without its query and with its
 * `;name=value` parameter values redacted (log-path.ts), and no header but
 * User-Agent is read.
 */
import { redactPathParams } from './log-path.js';
import { methodForLog } from './method-label.js';

/**
 * What a line is made of: the fields of pipeline/exchange.ts's Exchange that are read. Declared
 * here rather than imported so observe/ depends on nothing of ours (docs/architecture.md): every
 * layer may report to it, and the Exchange passes itself in as it is.
 */
export interface AccessSource {
  readonly ctx: {
    readonly id: string;
    readonly clientIp: string;
    readonly method: string;
    readonly host: string;
    readonly path: string;
    readonly headers: { readonly 'user-agent'?: string | undefined };
    readonly upstreamMs: number | null;
    readonly identity: { readonly sub: string | null } | null;
    readonly wafRules: readonly number[] | null;
    readonly wafScore: number | null;
    /** The request's span when tracing is on (docs/tracing.md). */
    readonly trace?: { readonly traceId: string; readonly spanId: string } | null;
  };
  readonly route: { readonly name: string } | null;
  readonly decision: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly tlsProtocol: string | null;
  readonly req: { readonly httpVersion: string };
}

const MAX_UA = 256;

export interface AccessLine {
  msg: 'access';
  requestId: string;
  clientIp: string;
  method: string;
  host: string;
  path: string;
  route: string | null;
  status: number;
  decision: string;
  durationMs: number;
  upstreamMs: number | null;
  bytesIn: number;
  bytesOut: number;
  sub: string | null;
  wafRules: readonly number[] | null;
  /** The WAF anomaly score when a rule matched (docs/waf.md), else null. */
  wafScore: number | null;
  userAgent: string | null;
  tls: string | null;
  /** "HTTP/1.1", "HTTP/2" (negotiated by ALPN on the HTTPS listener, issue 7), "HTTP/1.0", or "gRPC" (listeners.authGrpc). */
  protocol: string;
  /** W3C trace and span ids of the request's SERVER span, only when tracing is on (docs/tracing.md). */
  traceId?: string;
  spanId?: string;
}

/** `grpc`: an Envoy ext_authz Check call (forward-auth/grpc/), HTTP/2 underneath. */
const PROTOCOLS: Readonly<Record<string, string>> = { '1.1': 'HTTP/1.1', '2.0': 'HTTP/2', '1.0': 'HTTP/1.0', grpc: 'gRPC' };

// The derived fields, shared with access-json.ts, which writes the same line without the object.

/** Milliseconds rounded to the microsecond, as logged. */
export const loggedMs = (ms: number): number => Math.round(ms * 1000) / 1000;

export function loggedUserAgent(x: AccessSource): string | null {
  const ua = x.ctx.headers['user-agent'];
  return ua === undefined ? null : ua.length > MAX_UA ? ua.slice(0, MAX_UA) : ua;
}

export function loggedProtocol(x: AccessSource): string {
  return PROTOCOLS[x.req.httpVersion] ?? 'HTTP/' + x.req.httpVersion;
}

export function accessLine(x: AccessSource, status: number, durationMs: number): AccessLine {
  const ctx = x.ctx;
  const line: AccessLine = {
    msg: 'access',
    requestId: ctx.id,
    clientIp: ctx.clientIp,
    // Bounded (method-label.ts): an HTTP/2 :method can be any 8 KB token.
    method: methodForLog(ctx.method),
    host: ctx.host,
    path: redactPathParams(ctx.path),
    route: x.route === null ? null : x.route.name,
    status,
    decision: x.decision,
    durationMs: loggedMs(durationMs),
    upstreamMs: ctx.upstreamMs === null ? null : loggedMs(ctx.upstreamMs),
    bytesIn: x.bytesIn,
    bytesOut: x.bytesOut,
    sub: ctx.identity === null ? null : ctx.identity.sub,
    wafRules: ctx.wafRules,
    wafScore: ctx.wafScore,
    userAgent: loggedUserAgent(x),
    tls: x.tlsProtocol,
    protocol: loggedProtocol(x),
  };
  const trace = ctx.trace;
  if (trace !== undefined && trace !== null) {
    line.traceId = trace.traceId;
    line.spanId = trace.spanId;
  }
  return line;
}
