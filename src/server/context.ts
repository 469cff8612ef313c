/**
 * The per-request context. One class with every field assigned in the
 * constructor, so V8 gives every request object the same hidden class.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Identity, RequestContext, RouteRef, Shape } from '../pipeline/types.js';

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
  wafRules: readonly number[] | null = null;
  upstreamMs: number | null = null;
  responseHeaders: string[] | null = null;

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
