/**
 * The access-log line (PRODUCT §6): one JSON object per request with the
 * normative field names. Query strings, tokens, cookies and Authorization
 * never appear: `path` is the normalised path without its query, and no
 * header but User-Agent is read.
 */
import type { Exchange } from '../server/exchange.js';

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
  userAgent: string | null;
  tls: string | null;
}

export function accessLine(x: Exchange, status: number, durationMs: number): AccessLine {
  const ctx = x.ctx;
  const ua = ctx.headers['user-agent'];
  return {
    msg: 'access',
    requestId: ctx.id,
    clientIp: ctx.clientIp,
    method: ctx.method,
    host: ctx.host,
    path: ctx.path,
    route: x.route === null ? null : x.route.name,
    status,
    decision: x.decision,
    durationMs: Math.round(durationMs * 1000) / 1000,
    upstreamMs: ctx.upstreamMs === null ? null : Math.round(ctx.upstreamMs * 1000) / 1000,
    bytesIn: x.bytesIn,
    bytesOut: x.bytesOut,
    sub: ctx.identity === null ? null : ctx.identity.sub,
    wafRules: ctx.wafRules,
    userAgent: ua === undefined ? null : ua.length > MAX_UA ? ua.slice(0, MAX_UA) : ua,
    tls: x.tlsProtocol,
  };
}
