/**
 * The per-request context. One class with every field assigned in the
 * constructor, so V8 gives every request object the same hidden class.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestSpan } from '../observe/tracing/tracing.js';
import type { BodyAccess, ClientCertificate, Identity, RequestContext, RouteRef, Shape } from '../contract/types.js';

export class RequestCtx implements RequestContext {
  readonly id: string;
  readonly clientIp: string;
  readonly shape: Shape;
  readonly method: string;
  readonly host: string;
  path: string;
  readonly query: string;
  readonly proto: string;
  readonly headers: IncomingHttpHeaders;
  readonly startNs: bigint;
  route: RouteRef | null = null;
  identity: Identity | null = null;
  /** Set by the Exchange from the TLS socket (tls/identity.ts). */
  clientCert: ClientCertificate | null = null;
  wafRules: readonly number[] | null = null;
  wafScore: number | null = null;
  /** Set by the edge: every header copy as received (the WAF reads the duplicates Node drops). */
  rawHeaders: readonly string[] | null = null;
  /** Set by the edge for a request with a body (proxy/request-body.ts). */
  body: BodyAccess | null = null;
  upstreamMs: number | null = null;
  responseHeaders: string[] | null = null;
  /** Set by a stage adding upstream request headers (the identity token). */
  upstreamHeaders: string[] | null = null;
  /** Set by the Exchange's builder: the peer is a trusted proxy. */
  peerTrusted = false;
  /** Set by the forward-auth adapters: the original request's port (null: the scheme's default). */
  originalPort: string | null | undefined = undefined;
  /** Set by the Exchange when the response closed before it finished: the client left. */
  clientGone = false;
  /** The SERVER span, set by pipeline/trace.ts when tracing is on. */
  trace: RequestSpan | null = null;

  constructor(
    id: string, clientIp: string, shape: Shape, method: string, host: string,
    path: string, query: string, proto: string, headers: IncomingHttpHeaders, startNs: bigint,
  ) {
    this.id = id;
    this.clientIp = clientIp;
    this.shape = shape;
    this.method = method;
    this.host = host;
    this.path = path;
    this.query = query;
    this.proto = proto;
    this.headers = headers;
    this.startNs = startNs;
  }
}
