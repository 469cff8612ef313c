/**
 * Requests Node's HTTP parser refuses never reach the pipeline: malformed
 * framing (Content-Length with Transfer-Encoding, differing lengths, bare LF,
 * obs-fold), oversized headers, timeouts. They still get a clear status, a
 * JSON body with a request id, a log line and a metric (PRODUCT §7).
 */
import { STATUS_CODES } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { denialBody, errorCodeFor } from '../contract/respond.js';
import { canonicalIp } from '../route/client-ip.js';
import type { GatewayHolder } from '../pipeline/gateway.js';
import { exchangeOf } from '../pipeline/exchange.js';
import type { Respond } from '../contract/types.js';
import type { Hsts } from '../tls/hsts.js';

const MALFORMED_BODY: Respond = Object.freeze({ kind: 'respond', status: 400, decision: 'bad_request', error: 'bad_request' });
const BODY_TIMEOUT: Respond = Object.freeze({ kind: 'respond', status: 408, decision: 'bad_request', error: 'request_timeout' });

function statusForParserError(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT') return 408;
  return 400;
}

/**
 * The HTTP version of the request line, when the parser got that far (Node hands the bytes it
 * was parsing as `rawPacket`); else HTTP/1.1, the version of the answer. Only HTTP/1.x reaches
 * this handler: HTTP/2 framing errors end a stream or session, they are no 'clientError'.
 */
function protocolOf(rawPacket: unknown): string {
  if (!Buffer.isBuffer(rawPacket)) return 'HTTP/1.1';
  const eol = rawPacket.indexOf(10);
  const line = rawPacket.subarray(0, eol < 0 ? Math.min(rawPacket.length, 8192) : eol).toString('latin1');
  return / HTTP\/1\.0\r?$/.test(line) ? 'HTTP/1.0' : 'HTTP/1.1';
}

/** `hsts`: the HTTPS listener's (tls/hsts.ts), for answers written over TLS. */
export function handleClientError(holder: GatewayHolder, err: Error & { code?: string; rawPacket?: unknown }, socket: Socket, hsts: Hsts | null = null): void {
  // Nothing useful can be written to a reset socket, or to a client that closed mid-request.
  if (err.code === 'ECONNRESET' || err.code === 'HPE_INVALID_EOF_STATE' || !socket.writable) {
    socket.destroy();
    return;
  }
  // A body that turns malformed after its head was accepted (a bad chunk) belongs to an
  // exchange already under way: cancel its upstream call and answer 400 through it.
  const x = exchangeOf((socket as unknown as { _httpMessage?: unknown })._httpMessage);
  if (x !== undefined) {
    x.call?.abortFromClient();
    if (x.res.headersSent) socket.destroy();
    else x.respond(statusForParserError(err.code) === 408 ? BODY_TIMEOUT : MALFORMED_BODY, true);
    return;
  }
  const gateway = holder.current;
  const status = statusForParserError(err.code);
  const id = randomUUID();
  const body = denialBody(errorCodeFor(status), id);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\n' + (hsts?.line() ?? '') +
      `X-Request-Id: ${id}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  gateway.metrics.requestsTotal.labels('', '', String(status), 'bad_request').inc();
  const tls = (socket as Partial<TLSSocket>).encrypted === true ? ((socket as TLSSocket).getProtocol() ?? 'tls') : null;
  gateway.logger.info({
    msg: 'access', requestId: id, clientIp: canonicalIp(socket.remoteAddress ?? ''), method: null, host: null,
    path: null, route: null, status, decision: 'bad_request', durationMs: 0, upstreamMs: null, bytesIn: 0,
    bytesOut: Buffer.byteLength(body), sub: null, wafRules: null, wafScore: null, userAgent: null, tls,
    protocol: protocolOf(err.rawPacket), parserError: err.code ?? 'unknown',
  });
}
