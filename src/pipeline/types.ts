/**
 * The contract every pipeline stage obeys (PRODUCT §1, STYLE §2).
 *
 * A stage is compiled once from config into an object whose `handle` runs per
 * request and answers a Verdict: CONTINUE (the shared singleton) or a Respond
 * that ends the request. Expected outcomes are values, never exceptions.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** PRODUCT §6: the `decision` label of metrics and the access log. */
export type Decision =
  | 'allow'
  | 'no_route'
  | 'bad_request'
  | 'ip_denied'
  | 'unauthenticated'
  | 'forbidden'
  | 'rate_limited'
  | 'waf_blocked'
  | 'upstream_error';

export const CONTINUE = Object.freeze({ kind: 'continue' } as const);
export type Continue = typeof CONTINUE;

export interface Respond {
  readonly kind: 'respond';
  /** 200 only for a forward-auth allow. */
  readonly status: number;
  readonly decision: Decision;
  /** Public code for the JSON body `{"error":…}`; never internals. */
  readonly error?: string;
  /** Extra response headers: WWW-Authenticate, Retry-After, identity headers. */
  readonly headers?: Readonly<Record<string, string>>;
}

export type Verdict = Continue | Respond;

/** A verified identity, set by the auth stage. */
export interface Identity {
  /** Name of the provider that verified the token ('' for non-token identities). */
  readonly provider: string;
  readonly sub: string | null;
  /** The verified JWT payload. */
  readonly claims: Readonly<Record<string, unknown>>;
}

export type Shape = 'edge' | 'forward-auth';

/** Anything with a name and a handle: the route stages list is made of these. */
export interface Stage {
  /** 'netpolicy', 'auth', … as in logs and metrics. */
  readonly name: string;
  /** Sync when it can be; bad input → Respond, not throw. */
  handle(ctx: RequestContext): Verdict | Promise<Verdict>;
  /** Sockets and timers, on reload and shutdown. */
  close?(): Promise<void>;
}

/**
 * Per-request state. Built through one constructor (server/context.ts) so
 * every request object has the same shape.
 */
export interface RequestContext {
  readonly id: string;
  readonly clientIp: string;
  readonly shape: Shape;
  readonly method: string;
  /** Lowercased host without port. */
  readonly host: string;
  /** The normalised path (PRODUCT §1.4), without query. */
  path: string;
  /** Raw query string without the leading '?', or '' when none. */
  readonly query: string;
  /** 'http' | 'https' as seen by the client (trusted X-Forwarded-Proto or the listener). */
  readonly proto: string;
  readonly headers: IncomingHttpHeaders;
  readonly startNs: bigint;
  route: RouteRef | null;
  identity: Identity | null;
  wafRules: readonly number[] | null;
  upstreamMs: number | null;
  /**
   * Headers a stage adds to whatever response the request ends with — the upstream's
   * (proxy/forward.ts) or a denial (pipeline/respond.ts) — as a flat [name, value, …] list with
   * lowercase names; null (no allocation) until a stage adds one. RateLimit fields use it.
   */
  responseHeaders: string[] | null;
}

/** What the pipeline needs to know of a compiled route; route/ owns the full type. */
export interface RouteRef {
  readonly name: string;
  readonly stages: readonly Stage[];
}
