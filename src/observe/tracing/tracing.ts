/**
 * What the gateway asks of tracing (issue 19 item 2, docs/tracing.md), as small interfaces with no
 * OpenTelemetry import: the pipeline, the proxy and the stages hold a `Tracing` and per-request
 * `RequestSpan`s, and only otel.ts (loaded by load.ts when `tracing.enabled`) knows the SDK.
 *
 * Off costs one boolean test per request: `NO_TRACING.enabled` is false, the Exchange then never
 * asks for a span, `ctx.trace` stays null and every hook is a null check (STYLE §3: no per-request
 * allocation for a feature that is off).
 */

/** Span attribute values we set: OpenTelemetry's primitive kinds. */
export type SpanAttributes = Readonly<Record<string, string | number | boolean>>;

/** A CLIENT span (upstream call, Redis, introspection, JWKS, discovery). */
export interface ChildSpan {
  /** W3C traceparent naming this span: what the callee sees as its parent. */
  traceparent(): string;
  /** The trace's tracestate (a trusted parent's), or null when there is none. */
  tracestate(): string | null;
  set(key: string, value: string | number | boolean): void;
  /** A span nested in this one (OIDC discovery inside a JWKS fetch). */
  child(name: string, attributes: SpanAttributes): ChildSpan;
  /** Marks the span failed; `reason` is ours (never a token, never a response body). */
  fail(reason: string): void;
  /** Ends the span; later calls do nothing. */
  end(): void;
}

/** What a request's SERVER span is started with. */
export interface RequestStart {
  readonly method: string;
  readonly scheme: string;
  readonly host: string;
  readonly clientIp: string;
  readonly requestId: string;
  readonly shape: string;
  /** The request's traceparent/tracestate, or undefined when absent or not believed. */
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
}

/** What the SERVER span is ended with: the facts of the access-log line. */
export interface RequestEnd {
  readonly route: string | null;
  /** The normalised path, no query. */
  readonly path: string;
  readonly status: number;
  readonly decision: string;
  readonly sub: string | null;
}

export interface RequestSpan {
  readonly traceId: string;
  readonly spanId: string;
  traceparent(): string;
  tracestate(): string | null;
  /** A CLIENT span under this one. */
  child(name: string, attributes: SpanAttributes): ChildSpan;
  end(facts: RequestEnd): void;
}

export interface Tracing {
  readonly enabled: boolean;
  /** Whether a peer's traceparent is continued (`tracing.trustParentFrom`). */
  trustsParent(peer: string, peerTrusted: boolean): boolean;
  /** Only called when `enabled`. */
  startRequest(start: RequestStart): RequestSpan;
  /** A root CLIENT span for work no single request owns (JWKS fetches, discovery); null when off. */
  startBackground(name: string, attributes: SpanAttributes): ChildSpan | null;
  /** Exports what is queued (bounded by exportTimeoutMs), then stops. */
  shutdown(): Promise<void>;
}

/**
 * `tracing` as the config declares it (config/types.ts TracingConfig; observe/ imports nothing of
 * ours, so the shape is restated here). trustParentFrom is turned into a PeerTrust by the caller.
 */
export interface TracingOptions {
  readonly enabled: boolean;
  readonly endpoint: string;
  readonly serviceName: string;
  readonly sampleRatio: number;
  readonly includeSubject: boolean;
  readonly headers: Readonly<Record<string, string>>;
  readonly exportTimeoutMs: number;
  readonly maxQueueSize: number;
}

/** The peers whose traceparent is believed, when not server.trustedProxies (route/client-ip.ts TrustedProxies fits). */
export interface PeerTrust {
  isTrusted(address: string): boolean;
}

class NoTracing implements Tracing {
  readonly enabled = false;

  trustsParent(): boolean {
    return false;
  }

  startRequest(): RequestSpan {
    throw new Error('tracing is off: startRequest must not be called');
  }

  startBackground(): null {
    return null;
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The process's tracing when `tracing` is absent or off: loads nothing, allocates nothing. */
export const NO_TRACING: Tracing = new NoTracing();
