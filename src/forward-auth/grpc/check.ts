/**
 * One Check call: the gRPC twin of ForwardAuthCall (call.ts). The CheckRequest becomes a
 * RequestCtx of shape 'forward-auth' (read.ts), decided by the one decision of both shapes
 * (pipeline/decide.ts); the terminal step answers a CheckResponse (answer.ts) instead of an HTTP
 * response. It is its own record of the exchange — a Check call has no node:http request or
 * response — and is logged and counted by Gateway.finish like every request: once, when the
 * answer is sent or when the call is cancelled first (Envoy's timeout, a reset stream: 499).
 *
 * With tracing on, each call has the SERVER span of an HTTP forward-auth request (same name and
 * attributes, ended by Gateway.finish). The traceparent Envoy forwards is among the original
 * request's headers (attributes.request.http), and is continued under the HTTP adapter's rule:
 * only when the gRPC peer is trusted (`tracing.trustParentFrom`, by default
 * server.trustedProxies). The answer names our span in the call's response metadata, not in
 * ok_response/denied_response, whose headers are instructions for the client's and upstream's
 * messages.
 */
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import type { Decision, Respond } from '../../contract/types.js';
import { decide, recordInternalError, type Decidable, type Terminal } from '../../pipeline/decide.js';
import { RequestCtx } from '../../pipeline/context.js';
import type { FinishedExchange, Gateway } from '../../pipeline/gateway.js';
import { hostOf } from '../../pipeline/host.js';
import { chooseRequestId } from '../../pipeline/request-id.js';
import type { CompiledRoute } from '../../route/compiled-route.js';
import { canonicalIp } from '../../route/client-ip.js';
import { stageHeaders } from '../headers.js';
import { knownMethod } from '../original.js';
import { OTHER_METHOD } from '../../observe/method-label.js';
import { TRACEPARENT } from '../../observe/tracing/traceparent.js';
import { startSpan } from '../../pipeline/trace.js';
import { allowResponse, bodyBytes, deniedResponse } from './answer.js';
import type { CheckRequestMessage, CheckResponseMessage } from './messages.js';
import { grpcJs } from './protos.js';
import { readCheck } from './read.js';

const NO_META: ReadonlySet<string> = new Set();
const NO_HEADERS = Object.freeze({});

/** Headers over server.limits.maxHeaderBytes: the 431 Node's parser gives the HTTP endpoint. */
const HEADERS_TOO_LARGE: Respond = Object.freeze({ kind: 'respond', status: 431, decision: 'bad_request', error: 'headers_too_large' });

/** What the access log reads of node:http's request: nothing was declared, HTTP/2 carried it as gRPC. */
const GRPC_REQUEST = Object.freeze({ headers: Object.freeze({}), complete: true, httpVersion: 'grpc' });

/** `ipv4 or ipv6:port` as grpc-js's getPeer writes a TCP peer: the address before the last colon. */
function peerAddress(peer: string): string {
  const colon = peer.lastIndexOf(':');
  return canonicalIp(colon > 0 ? peer.slice(0, colon) : peer);
}

export class GrpcCheck implements Decidable, FinishedExchange, Terminal<GrpcCheck> {
  readonly ctx: RequestCtx;
  readonly gateway: Gateway;
  readonly targetOk: boolean;
  readonly req = GRPC_REQUEST;
  readonly tlsProtocol: string | null;
  readonly bodyCounter = null;
  // A Check call has no upstream: the span of a forwarded request is always absent here.
  readonly upstreamSpan = null;
  readonly inFlightCounted = false;
  route: CompiledRoute | null = null;
  decision: Decision = 'allow';
  bytesIn = 0;
  bytesOut = 0;
  readonly #call: ServerUnaryCall<CheckRequestMessage, CheckResponseMessage>;
  readonly #callback: sendUnaryData<CheckResponseMessage>;
  readonly #spoofed: string[] | null;
  readonly #tooLarge: boolean;
  #status = 0;
  #cancelled = false;
  #recorded = false;

  constructor(
    call: ServerUnaryCall<CheckRequestMessage, CheckResponseMessage>, callback: sendUnaryData<CheckResponseMessage>,
    gateway: Gateway, tlsProtocol: string | null,
  ) {
    const startNs = process.hrtime.bigint();
    this.gateway = gateway;
    this.tlsProtocol = tlsProtocol;
    this.#call = call;
    this.#callback = callback;
    const peer = peerAddress(call.getPeer());
    const trusted = gateway.trusted.isTrusted(peer);
    const caller = { peer, trusted, trustedProxies: gateway.trusted, listenerProto: tlsProtocol === null ? 'http' : 'https' };
    const read = readCheck(call.request, caller, gateway.limits.maxHeaderBytes);
    const http = call.request.attributes?.request?.http;
    const seen = read.ok ? stageHeaders(read.seen.headers, read.seen.rawHeaders, gateway.injectable, NO_META) : null;
    const headers = seen?.headers ?? {};
    const id = chooseRequestId(headers['x-request-id'] ?? http?.id, trusted);
    const o = read.original;
    this.ctx = o.ok
      ? new RequestCtx(id, o.clientIp, 'forward-auth', o.method, o.host, o.path, o.query, o.proto, headers, startNs)
      : new RequestCtx(id, peer, 'forward-auth', knownMethod(http?.method) ?? OTHER_METHOD, hostOf(http?.host), o.pathForLog, '', caller.listenerProto, headers, startNs);
    this.ctx.rawHeaders = seen?.rawHeaders ?? null;
    if (o.ok) this.ctx.originalPort = o.port;
    this.targetOk = o.ok;
    this.#spoofed = seen?.spoofed ?? null;
    this.#tooLarge = !read.ok && read.status === 431;
    if (gateway.tracing.enabled) startSpan(gateway.tracing, this.ctx, peer, trusted, read.ok ? read.seen.headers : NO_HEADERS);
    // Envoy's timeout or a reset stream before the answer: nothing to send, logged as 499.
    call.once('cancelled', () => {
      this.#cancelled = true;
      this.ctx.clientGone = true;
      this.#record();
    });
  }

  run(): void {
    if (this.#tooLarge) this.deny(this, HEADERS_TOO_LARGE);
    else decide(this, this);
  }

  get gone(): boolean {
    return this.#cancelled;
  }

  /** The HTTP status Envoy was told to answer (200 for an allow), or 499 when the call ended unanswered. */
  get loggedStatus(): number {
    return this.#status === 0 ? 499 : this.#status;
  }

  admit(): Respond | null {
    return null;
  }

  allow(_x: GrpcCheck, route: CompiledRoute): void {
    this.#send(allowResponse(this.ctx, route, this.#spoofed), 200, 'allow');
  }

  deny(_x: GrpcCheck, r: Respond): void {
    this.#send(deniedResponse(this.ctx, r), r.status, r.decision);
  }

  fail(_x: GrpcCheck, err: unknown): void {
    const r = recordInternalError(this, err);
    this.#send(deniedResponse(this.ctx, r), r.status, r.decision);
  }

  #send(res: CheckResponseMessage, status: number, decision: Decision): void {
    if (this.#status !== 0 || this.#cancelled) return;
    this.#status = status;
    this.decision = decision;
    this.bytesOut = bodyBytes(res);
    const trace = this.ctx.trace;
    if (trace !== null) {
      const meta = new (grpcJs().Metadata)();
      meta.set(TRACEPARENT, trace.traceparent());
      this.#call.sendMetadata(meta);
    }
    this.#callback(null, res);
    this.#record();
  }

  #record(): void {
    if (this.#recorded) return;
    this.#recorded = true;
    this.gateway.finish(this);
  }
}
