/**
 * One request/response exchange: the context plus what the access log and
 * metrics need at the end. The `close` event of the response — fired on
 * every outcome, finished or aborted — is where it is recorded, so no path
 * through the pipeline can skip the log line (PRODUCT §1.12).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Decision, Respond } from '../contract/types.js';
import { sendRespond } from '../contract/respond.js';
import type { RequestCtx } from './context.js';
import type { Gateway } from './gateway.js';
import type { CompiledRoute } from '../route/compiled-route.js';
import { clientCertOf } from '../tls/identity.js';
import type { ChildSpan } from '../observe/tracing/tracing.js';

/** What an in-flight upstream call must do when the client goes away. */
export interface Abortable {
  abortFromClient(): void;
}

const kExchange = Symbol('portcullis.exchange');

export class Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly ctx: RequestCtx;
  readonly gateway: Gateway;
  route: CompiledRoute | null = null;
  decision: Decision = 'allow';
  bytesIn = 0;
  bytesOut = 0;
  call: Abortable | null = null;
  /** The socket peer, and whether it is a trusted proxy (its X-Forwarded-* are believed). */
  peer = '';
  peerTrusted = false;
  /** Whether the request-target normalised (PRODUCT §1.4); a bad one is answered 400. */
  targetOk = true;
  /** Counts a chunked request body as it streams (bytesIn). */
  bodyCounter: { readonly bytes: number } | null = null;
  /** A WebSocket handed to the upstream: logged as 101 when its socket closes. */
  upgraded = false;
  /** Counted in gateway.clientInFlight (server.limits.maxInFlightPerClient) until it is recorded. */
  inFlightCounted = false;
  /** The upstream call's CLIENT span when tracing is on (proxy/forward.ts); ended by Gateway.finish. */
  upstreamSpan: ChildSpan | null = null;

  constructor(req: IncomingMessage, res: ServerResponse, ctx: RequestCtx, gateway: Gateway) {
    this.req = req;
    this.res = res;
    this.ctx = ctx;
    this.gateway = gateway;
    const socket = req.socket as Partial<TLSSocket> | null;
    this.tlsProtocol = socket?.encrypted ? (socket.getProtocol?.() ?? 'tls') : null;
    if (this.tlsProtocol !== null) ctx.clientCert = clientCertOf(socket);
    (res as unknown as Record<symbol, Exchange>)[kExchange] = this;
    res.once('close', onResponseClose);
  }

  respond(r: Respond, closeConnection = false): void {
    this.decision = r.decision;
    // An unread request body would be parsed as the next request: close instead.
    const unread = closeConnection || (!this.req.complete && hasBody(this.req));
    this.bytesOut += sendRespond(this.res, this.ctx.id, r, unread, this.ctx.responseHeaders);
  }

  /** decide()'s test before an allow (pipeline/decide.ts): the client left while a stage was waiting. */
  get gone(): boolean {
    return this.res.destroyed || this.ctx.clientGone;
  }

  /** Status to log: what was sent, or 499 (nginx's "client closed request") when nothing was. */
  get loggedStatus(): number {
    if (this.upgraded) return 101;
    if (this.decision === 'upstream_error') return this.res.headersSent ? this.res.statusCode : 502;
    if (this.res.headersSent) return this.res.writableFinished || this.res.statusCode >= 400 ? this.res.statusCode : 499;
    return 499;
  }

  /** Read at the start: the socket may be gone by the time the exchange is logged. */
  readonly tlsProtocol: string | null;

  #recorded = false;

  /** Access log line and metrics, once: when the response closes, or at once for a client already gone. */
  record(): void {
    if (this.#recorded) return;
    this.#recorded = true;
    this.ctx.clientGone = !this.res.writableFinished;
    if (this.ctx.clientGone && this.call !== null) this.call.abortFromClient();
    this.gateway.finish(this);
  }
}

export function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0')) return true;
  // HTTP/2 frames a body without Content-Length; END_STREAM on the HEADERS frame says there is none (RFC 9113 §8.1).
  const stream = (req as { stream?: { endAfterHeaders?: boolean } }).stream;
  return cl === undefined && stream !== undefined && stream.endAfterHeaders === false;
}

/** The exchange a response belongs to, if it was created by the pipeline. */
export function exchangeOf(res: unknown): Exchange | undefined {
  return res !== null && typeof res === 'object' ? (res as Record<symbol, Exchange | undefined>)[kExchange] : undefined;
}

function onResponseClose(this: ServerResponse): void {
  (this as unknown as Record<symbol, Exchange>)[kExchange]!.record();
}
