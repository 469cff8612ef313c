/**
 * The process's Tracing from `tracing` (docs/tracing.md). Off: NO_TRACING, and no OpenTelemetry
 * module is ever loaded (the SDK comes in through the dynamic import below, nowhere else). On: the
 * SDK's tracer provider, built once at startup; a reload keeps it (tracing changes need a restart).
 */
import type { Logger } from 'pino';
import { NO_TRACING, type PeerTrust, type Tracing, type TracingOptions } from './tracing.js';

/** `trust` null: believe the peers of server.trustedProxies. */
export async function loadTracing(options: TracingOptions | undefined, trust: PeerTrust | null, logger: Logger): Promise<Tracing> {
  if (options === undefined || !options.enabled) return NO_TRACING;
  const { OtelTracing } = await import('./otel.js');
  const tracing = new OtelTracing(options, trust, logger);
  logger.info({ endpoint: options.endpoint, sampleRatio: options.sampleRatio, serviceName: options.serviceName }, 'tracing on: exporting OTLP/HTTP JSON');
  return tracing;
}
