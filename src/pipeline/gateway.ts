/**
 * A Gateway is one compiled config: route table, trust lists, header sets,
 * upstream pools and stages, plus the process-wide logger and metrics it
 * reports to. It is immutable once built. On reload a new Gateway replaces
 * it; requests in flight keep the one they started with, and the old one
 * closes its pools once they have all finished (STYLE §4).
 */
import type { Logger } from 'pino';
import type { GatewayConfig, LimitsConfig } from '../config/types.js';
import type { GatewayMetrics } from '../observe/metrics.js';
import type { CompiledRoute } from '../route/compiled-route.js';
import type { RouteTable } from '../route/match.js';
import type { TrustedProxies } from '../route/client-ip.js';
import type { InjectableHeaders } from '../route/sanitise.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { Decision, GatewayDeps, Resource } from '../contract/types.js';
import type { AccessSource } from '../observe/access-log.js';
import { accessLineWriter, type AccessWriter } from '../observe/access-json.js';
import { RequestMetrics } from '../observe/request-metrics.js';
import { ClientInFlight } from './client-inflight.js';
import { RateLimitedWarnings } from '../observe/warnings.js';
import { NO_TRACING, type ChildSpan, type RequestSpan, type Tracing } from '../observe/tracing/tracing.js';

/** Where the current Gateway lives; a reload swaps `current` and nothing else. */
export interface GatewayHolder {
  current: Gateway;
  /** While draining, every response closes its connection so clients move elsewhere. */
  readonly shuttingDown: boolean;
}

/**
 * What finish() and the log helpers read of an exchange (pipeline/exchange.ts, which holds its
 * Gateway): declared here so the two files do not import each other.
 */
/**
 * The gateway's own endpoints under `sessions.pathPrefix` (session/endpoints.ts), answered by
 * both shapes before routing. Declared here rather than imported: session/ sits above the
 * pipeline (docs/architecture.md), and the handler's full-Exchange parameter fits this method
 * signature (TypeScript checks method parameters bivariantly).
 */
export interface OwnEndpoints {
  owns(path: string): boolean;
  ownsTarget(url: string): boolean;
  serve(x: FinishedExchange): void;
}

export interface FinishedExchange extends AccessSource {
  readonly ctx: AccessSource['ctx'] & { readonly startNs: bigint; readonly trace: RequestSpan | null };
  readonly upstreamSpan: ChildSpan | null;
  /** Of node:http's IncomingMessage, what the log and the body count read (forward-auth/grpc supplies its own). */
  readonly req: { readonly headers: IncomingHttpHeaders; readonly complete: boolean; readonly httpVersion: string };
  readonly loggedStatus: number;
  readonly decision: Decision;
  bytesIn: number;
  readonly bodyCounter: { readonly bytes: number } | null;
  readonly inFlightCounted: boolean;
}

/** Enough of an exchange to name it in a log line. */
type Named = Pick<FinishedExchange, 'route'> & { readonly ctx: { readonly id: string } };

export class Gateway {
  readonly config: GatewayConfig;
  readonly routes: RouteTable<CompiledRoute>;
  readonly trusted: TrustedProxies;
  readonly injectable: InjectableHeaders;
  readonly limits: LimitsConfig;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly resources: readonly Resource[];
  /** server.limits.maxInFlightPerClient's counts; the previous Gateway's on reload (compile/gateway.ts). */
  readonly clientInFlight: ClientInFlight;
  /** Warnings a flood can repeat (upstream errors, HTTP/2 GOAWAYs): logged rate-limited, counted in full. */
  readonly warnings: RateLimitedWarnings;
  /** `<sessions.pathPrefix>/…`, answered before routing by both shapes; null without `sessions`. */
  readonly signIn: OwnEndpoints | null;
  /** The process's tracing (docs/tracing.md): NO_TRACING unless `tracing.enabled`. */
  readonly tracing: Tracing;
  readonly #requestMetrics: RequestMetrics;
  /** The access line's serialiser, chosen once for this logger (observe/access-json.ts). */
  readonly #writeAccess: AccessWriter;
  #inflight = 0;
  #retired = false;
  #closing: Promise<void> | null = null;
  #drained: (() => void) | null = null;

  constructor(
    config: GatewayConfig, routes: RouteTable<CompiledRoute>, trusted: TrustedProxies,
    injectable: InjectableHeaders, resources: readonly Resource[], deps: GatewayDeps,
    clientInFlight: ClientInFlight = new ClientInFlight(), signIn: OwnEndpoints | null = null,
  ) {
    this.config = config;
    this.routes = routes;
    this.trusted = trusted;
    this.injectable = injectable;
    this.limits = config.server.limits;
    this.resources = resources;
    this.clientInFlight = clientInFlight;
    this.signIn = signIn;
    this.logger = deps.logger;
    this.metrics = deps.metrics;
    this.tracing = deps.tracing ?? NO_TRACING;
    this.#requestMetrics = new RequestMetrics(deps.metrics);
    this.#writeAccess = accessLineWriter(deps.logger);
    this.warnings = new RateLimitedWarnings(deps.logger);
  }

  get inflight(): number {
    return this.#inflight;
  }

  acquire(): void {
    this.#inflight++;
  }

  /** Access log line and metrics for a finished exchange (PRODUCT §1.12), then release it. */
  finish(x: FinishedExchange): void {
    const status = x.loggedStatus;
    const durationMs = Number(process.hrtime.bigint() - x.ctx.startNs) / 1e6;
    const routeName = x.route === null ? '' : x.route.name;
    try {
      if (x.bytesIn === 0) x.bytesIn = declaredBodyBytes(x);
      this.#writeAccess(x, status, durationMs);
      const upstreamMs = x.ctx.upstreamMs;
      this.#requestMetrics.record(routeName, x.ctx.method, status, x.decision, durationMs / 1000, upstreamMs === null ? null : upstreamMs / 1000);
      if (x.ctx.trace !== null) endTrace(x, x.ctx.trace, status);
    } finally {
      if (x.inFlightCounted) this.clientInFlight.release(x.ctx.clientIp);
      this.#release();
    }
  }

  #release(): void {
    this.#inflight--;
    if (this.#inflight === 0 && this.#drained !== null) this.#drained();
  }

  /** null when ready, else the reasons (PRODUCT §6 /readyz). */
  notReadyReasons(): string[] {
    const reasons: string[] = [];
    for (const r of this.resources) {
      const why = r.notReadyReason();
      if (why !== null) reasons.push(`${r.name}: ${why}`);
    }
    return reasons;
  }

  /** Stop taking new work; close pools and resources once in-flight requests are done. */
  retire(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#retired = true;
    const drained = this.#inflight === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => { this.#drained = resolve; });
    this.#closing = drained.then(() => this.#closeAll());
    return this.#closing;
  }

  get retired(): boolean {
    return this.#retired;
  }

  async #closeAll(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const route of this.routes.routes) {
      closing.push(route.upstream.close());
      for (const stage of route.stages) if (stage.close) closing.push(stage.close());
    }
    for (const r of this.resources) closing.push(r.close());
    const results = await Promise.allSettled(closing);
    for (const r of results) {
      if (r.status === 'rejected') this.logger.warn({ err: r.reason }, 'error while closing a retired gateway');
    }
  }

  /**
   * Counted every time; logged at most once per route and reason every 10 s (observe/warnings.ts):
   * a saturated pool under attack fails thousands of requests a second, each already in the access log.
   */
  logUpstreamError(x: Named, err: unknown, reason: string): void {
    const route = x.route?.name ?? '';
    this.metrics.upstreamErrorsTotal.labels(route, reason).inc();
    this.warnings.warn(
      'upstream:' + route + ':' + reason,
      { requestId: x.ctx.id, route: x.route?.name ?? null, reason, err: err instanceof Error ? err.message : String(err) },
      'upstream error',
    );
  }

  logTargetEjected(route: string, target: string): void {
    this.logger.warn({ route, target }, 'upstream target ejected after consecutive failures');
  }
}

/** The upstream CLIENT span, then the request's SERVER span, with the access line's facts. */
function endTrace(x: FinishedExchange, trace: RequestSpan, status: number): void {
  const upstream = x.upstreamSpan;
  if (upstream !== null) {
    if (x.ctx.upstreamMs !== null) upstream.set('http.response.status_code', status);
    if (x.decision === 'upstream_error') upstream.fail('upstream_error');
    upstream.end();
  }
  const sub = x.ctx.identity === null ? null : x.ctx.identity.sub;
  trace.end({ route: x.route === null ? null : x.route.name, path: x.ctx.path, status, decision: x.decision, sub });
}

function declaredBodyBytes(x: FinishedExchange): number {
  if (x.bodyCounter !== null) return x.bodyCounter.bytes;
  const cl = x.req.headers['content-length'];
  if (cl === undefined || !x.req.complete) return 0;
  const n = Number(cl);
  return Number.isFinite(n) ? n : 0;
}
