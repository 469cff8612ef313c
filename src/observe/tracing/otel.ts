/**
 * The OpenTelemetry side of tracing (docs/tracing.md): one TracerProvider for the process with a
 * parent-based ratio sampler and a bounded batch processor exporting OTLP/HTTP JSON. Imported
 * only by load.ts's dynamic import, so a gateway without `tracing.enabled` never loads the SDK.
 *
 * Context is passed explicitly (the parent span in hand, `trace.setSpan(ROOT_CONTEXT, …)`), never
 * through a global context manager: no AsyncLocalStorage on the hot path, and a span cannot pick
 * up the wrong parent from an unrelated callback.
 */
import {
  createTraceState, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags,
  type Context, type Span, type SpanContext, type Tracer,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Logger } from 'pino';
import { redactPathParams } from '../log-path.js';
import { methodForLog } from '../method-label.js';
import { ReportingExporter } from './reporting-exporter.js';
import { formatTraceparent, parseTraceparent } from './traceparent.js';
import type { ChildSpan, PeerTrust, RequestEnd, RequestSpan, RequestStart, SpanAttributes, Tracing, TracingOptions } from './tracing.js';

const TRACER_NAME = 'portcullis';
/** Attribute values past this are cut by the SDK: a path or a user agent cannot bloat an export. */
const ATTRIBUTE_VALUE_MAX = 1024;

export class OtelTracing implements Tracing {
  readonly enabled = true;
  readonly #provider: TracerProvider;
  readonly #tracer: Tracer;
  readonly #trust: PeerTrust | null;
  readonly #includeSubject: boolean;
  readonly #shutdownMs: number;

  constructor(options: TracingOptions, trust: PeerTrust | null, logger: Logger) {
    const exporter = new ReportingExporter(
      new OTLPTraceExporter({ url: options.endpoint, headers: { ...options.headers }, timeoutMillis: options.exportTimeoutMs }),
      options.endpoint, logger,
    );
    this.#provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName }),
      // A trusted parent's sampled flag decides; a new trace is kept with probability sampleRatio.
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) }),
      spanLimits: { attributeValueLengthLimit: ATTRIBUTE_VALUE_MAX, attributeCountLimit: 32, eventCountLimit: 16 },
      spanProcessors: [new BatchSpanProcessor({
        exporter,
        maxQueueSize: options.maxQueueSize,
        maxExportBatchSize: Math.min(512, options.maxQueueSize),
        exportTimeoutMillis: options.exportTimeoutMs,
      })],
    });
    this.#tracer = this.#provider.getTracer(TRACER_NAME);
    this.#trust = trust;
    this.#includeSubject = options.includeSubject;
    this.#shutdownMs = options.exportTimeoutMs + 1_000;
  }

  trustsParent(peer: string, peerTrusted: boolean): boolean {
    return this.#trust === null ? peerTrusted : this.#trust.isTrusted(peer);
  }

  startRequest(start: RequestStart): RequestSpan {
    const method = methodForLog(start.method);
    const span = this.#tracer.startSpan(method, {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': method,
        'url.scheme': start.scheme,
        'server.address': start.host,
        'client.address': start.clientIp,
        'portcullis.request_id': start.requestId,
        'portcullis.shape': start.shape,
      },
    }, parentContext(start.traceparent, start.tracestate));
    return new OtelRequestSpan(this.#tracer, span, method, this.#includeSubject);
  }

  startBackground(name: string, attributes: SpanAttributes): ChildSpan {
    return new OtelChildSpan(this.#tracer, this.#tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, ROOT_CONTEXT));
  }

  async shutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => { timer = setTimeout(resolve, this.#shutdownMs); });
    // A failed last export was logged by ReportingExporter; shutting down must not fail for it.
    const flushed = this.#provider.shutdown().catch(ignore);
    await Promise.race([flushed, late]);
    clearTimeout(timer);
  }
}

function ignore(): void {
  // see shutdown(): already reported
}

/** A believed traceparent as the remote parent, else the root (a new trace). */
function parentContext(traceparent: string | undefined, tracestate: string | undefined): Context {
  const parent = parseTraceparent(traceparent);
  if (parent === null) return ROOT_CONTEXT;
  const remote: SpanContext = {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  };
  // createTraceState drops malformed members and keeps at most 32 (W3C §3.3.1).
  if (tracestate !== undefined && tracestate !== '') remote.traceState = createTraceState(tracestate);
  return trace.setSpanContext(ROOT_CONTEXT, remote);
}

function traceparentOf(span: Span): string {
  const sc = span.spanContext();
  return formatTraceparent(sc.traceId, sc.spanId, (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED);
}

function tracestateOf(span: Span): string | null {
  return span.spanContext().traceState?.serialize() ?? null;
}

function childOf(tracer: Tracer, parent: Span, name: string, attributes: SpanAttributes): ChildSpan {
  return new OtelChildSpan(tracer, tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, trace.setSpan(ROOT_CONTEXT, parent)));
}

class OtelChildSpan implements ChildSpan {
  readonly #tracer: Tracer;
  readonly #span: Span;
  #ended = false;

  constructor(tracer: Tracer, span: Span) {
    this.#tracer = tracer;
    this.#span = span;
  }

  traceparent(): string {
    return traceparentOf(this.#span);
  }

  tracestate(): string | null {
    return tracestateOf(this.#span);
  }

  set(key: string, value: string | number | boolean): void {
    this.#span.setAttribute(key, value);
  }

  child(name: string, attributes: SpanAttributes): ChildSpan {
    return childOf(this.#tracer, this.#span, name, attributes);
  }

  fail(reason: string): void {
    this.#span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#span.end();
  }
}

class OtelRequestSpan implements RequestSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly #tracer: Tracer;
  readonly #span: Span;
  readonly #method: string;
  readonly #includeSubject: boolean;
  #ended = false;

  constructor(tracer: Tracer, span: Span, method: string, includeSubject: boolean) {
    const sc = span.spanContext();
    this.traceId = sc.traceId;
    this.spanId = sc.spanId;
    this.#tracer = tracer;
    this.#span = span;
    this.#method = method;
    this.#includeSubject = includeSubject;
  }

  traceparent(): string {
    return traceparentOf(this.#span);
  }

  tracestate(): string | null {
    return tracestateOf(this.#span);
  }

  child(name: string, attributes: SpanAttributes): ChildSpan {
    return childOf(this.#tracer, this.#span, name, attributes);
  }

  end(facts: RequestEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.#span;
    if (span.isRecording()) {
      // The route name is the low-cardinality template (semconv http.route); the path is the
      // normalised one without query, parameters redacted as in the access log.
      if (facts.route !== null) {
        span.updateName(this.#method + ' ' + facts.route);
        span.setAttribute('http.route', facts.route);
      }
      span.setAttribute('url.path', redactPathParams(facts.path));
      span.setAttribute('http.response.status_code', facts.status);
      span.setAttribute('portcullis.decision', facts.decision);
      if (this.#includeSubject && facts.sub !== null) span.setAttribute('enduser.id', facts.sub);
      // Semconv for SERVER spans: 5xx is an error of ours; a 4xx is the client's.
      if (facts.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }
}
