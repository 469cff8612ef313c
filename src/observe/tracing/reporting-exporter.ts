/**
 * The OTLP exporter, plus one warning when exports start failing and one line when they work
 * again. The SDK reports failures to its diagnostic logger, which is silent unless registered: a
 * collector that is down would otherwise go unnoticed, or (with the diag logger on) log per batch.
 * Spans that cannot be exported are dropped by the batch processor, whose queue is bounded
 * (tracing.maxQueueSize): requests never wait for the collector.
 */
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { Logger } from 'pino';

/** The SDK's ExportResult, structurally (its type lives in @opentelemetry/core); code 0 is SUCCESS. */
interface ExportOutcome {
  code: number;
  error?: Error;
}

export class ReportingExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #endpoint: string;
  readonly #logger: Logger;
  #failing = false;

  constructor(inner: SpanExporter, endpoint: string, logger: Logger) {
    this.#inner = inner;
    this.#endpoint = endpoint;
    this.#logger = logger;
  }

  export(spans: ReadableSpan[], done: (result: ExportOutcome) => void): void {
    this.#inner.export(spans, (result: ExportOutcome) => {
      if (result.code !== 0) {
        if (!this.#failing) {
          this.#failing = true;
          this.#logger.warn(
            { endpoint: this.#endpoint, err: result.error?.message ?? 'export failed', spans: spans.length },
            'trace export failed; spans are dropped until the collector answers (one line until it recovers)',
          );
        }
      } else if (this.#failing) {
        this.#failing = false;
        this.#logger.info({ endpoint: this.#endpoint }, 'trace export works again');
      }
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}
