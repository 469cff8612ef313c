/**
 * The contract every pipeline stage obeys (PRODUCT §1, STYLE §2).
 *
 * A stage is compiled once from config into an object whose `handle` runs per
 * request and answers a Verdict: CONTINUE (the shared singleton) or a Respond
 * that ends the request. Expected outcomes are values, never exceptions.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { GatewayMetrics } from '../observe/metrics.js';
import type { RequestSpan, Tracing } from '../observe/tracing/tracing.js';

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

/** A TLS client certificate the HTTPS listener verified against its clientCa (issue 7, docs/tls.md). */
export interface ClientCertificate {
  /** Subject DN as an RFC 4514 string: "CN=alice,O=Acme,C=US". */
  readonly subject: string;
  /** Subject alternative names as "DNS:…", "URI:…", "email:…", "IP:…". */
  readonly sans: readonly string[];
  /** `{ cert: { subject, cn, san, dns, uri, email, ip, issuer, fingerprint, serial, notAfter } }`: what `cert.*` claim paths read. */
  readonly claims: Readonly<Record<string, unknown>>;
}

export type Shape = 'edge' | 'forward-auth';

/** What a stage got from BodyAccess.readPrefix. */
export interface BodyPrefix {
  /** The bytes read, in order; may run a little past the bound asked for (whole chunks). */
  readonly bytes: Buffer;
  /** True when `bytes` is the whole body. */
  readonly complete: boolean;
  /** True when the client went away or the body could not be read. */
  readonly failed: boolean;
}

/** A request body a stage may read a bounded prefix of; forwarding then sends prefix + rest. */
export interface BodyAccess {
  /** Content-Length when declared (not chunked), else null. */
  readonly declaredBytes: number | null;
  /** Reads about `maxBytes` (once; later calls share the first read). */
  readPrefix(maxBytes: number): Promise<BodyPrefix>;
}

/** Anything with a name and a handle: the route stages list is made of these. */
export interface Stage {
  /** 'netpolicy', 'auth', … as in logs and metrics. */
  readonly name: string;
  /** Sync when it can be; bad input → Respond, not throw. */
  handle(ctx: RequestContext): Verdict | Promise<Verdict>;
  /** Sockets and timers, on reload and shutdown. */
  close?(): Promise<void>;
  /**
   * True when the stage checks something new on every request (a DPoP proof, RFC 9449): an
   * allow must never be cached by a forward-auth caller (forward-auth/cache.ts).
   */
  readonly perRequestProof?: boolean;
}

/**
 * Per-request state. Built through one constructor (pipeline/context.ts) so
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
  /**
   * Node's rawHeaders ([name, value, …] as received), when the request came from a socket. Node
   * keeps only the first copy of some headers in `headers` (Referer, User-Agent, Host …) while
   * every copy is forwarded, so the WAF reads the others here.
   */
  readonly rawHeaders?: readonly string[] | null;
  readonly startNs: bigint;
  route: RouteRef | null;
  identity: Identity | null;
  /** The verified TLS client certificate, when the request came over mTLS (set by server/, read-only for stages). */
  readonly clientCert?: ClientCertificate | null;
  /**
   * Whether the socket peer is inside server.trustedProxies (the caller, in the forward-auth
   * shape): a proxy's statements about the client (a forwarded client certificate) count only then.
   */
  readonly peerTrusted?: boolean;
  /**
   * Forward-auth shape: the original request's port as the adapter established it (forward-auth/
   * original.ts: by the same trust rule as the host and scheme), null for the scheme's default.
   * Read by the DPoP htu check. Undefined at the edge, where Host names it.
   */
  readonly originalPort?: string | null;
  wafRules: readonly number[] | null;
  /** WAF anomaly score when a rule matched (PRODUCT §1.10), else null. */
  wafScore: number | null;
  /**
   * The request body, for a stage that must look into it before it is forwarded (the WAF);
   * null when there is none or in forward-auth shape. See proxy/request-body.ts.
   */
  body: BodyAccess | null;
  upstreamMs: number | null;
  /**
   * Headers a stage adds to whatever response the request ends with — the upstream's
   * (proxy/forward.ts) or a denial (contract/respond.ts) — as a flat [name, value, …] list with
   * lowercase names; null (no allocation) until a stage adds one. RateLimit fields use it.
   */
  responseHeaders: string[] | null;
  /**
   * Request headers a stage adds for the upstream (the identity token, identity-token/), as a flat
   * [name, value, …] list; in the forward-auth shape they go on the allow, beside the identity
   * headers. null until a stage adds one.
   */
  upstreamHeaders?: string[] | null;
  /**
   * True once the client is gone (its connection closed, its HTTP/2 stream reset) before the
   * response finished: the runner starts no further stage for it (issue 21). Absent: still there.
   */
  readonly clientGone?: boolean;
  /**
   * The request's SERVER span when tracing is on (docs/tracing.md), else null (or absent): a stage
   * doing I/O for the request hangs its CLIENT span under it (`ctx.trace?.child(…)`).
   */
  readonly trace?: RequestSpan | null;
}

/** What the pipeline needs to know of a compiled route; route/ owns the full type. */
export interface RouteRef {
  readonly name: string;
  readonly stages: readonly Stage[];
}

/** What every compiled piece reports to (STYLE §4: passed in, no module singletons). */
export interface GatewayDeps {
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** The process's tracing (observe/tracing/load.ts); absent: off. */
  readonly tracing?: Tracing;
}

/** Something the gateway must wait for before it is ready and close at the end (JWKS, Redis …). */
export interface Resource {
  readonly name: string;
  /** null when ready, else a short reason for /readyz. */
  notReadyReason(): string | null;
  close(): Promise<void>;
}
