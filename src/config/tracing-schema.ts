/**
 * The config schema fragment of tracing (issue 19 item 2, PRODUCT §8 "OpenTelemetry tracing, off
 * by default"), spliced into config/schema.ts. It lives in config/ because observe/, where the
 * tracer is, is config/'s peer row (docs/architecture.md). The descriptions are the config
 * reference; docs/tracing.md tells the longer story.
 */
import { cidrList, headerName, integer } from './schema-kit.js';

/** Where the OTLP/HTTP exporter sends by default: a collector on this host (OTLP's default port and path). */
export const DEFAULT_TRACING_ENDPOINT = 'http://127.0.0.1:4318/v1/traces';
export const DEFAULT_SERVICE_NAME = 'portcullis';

export const TRACING_SCHEMA = {
  type: 'object',
  description:
    'OpenTelemetry tracing: a SERVER span per request, CLIENT spans for the upstream call, Redis rate-limit calls, token introspection, JWKS fetches and OIDC discovery, exported as OTLP/HTTP JSON. Absent or enabled: false: no tracing code is loaded and a traceparent is forwarded unchanged. Changing it needs a restart (docs/tracing.md).',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', description: 'Turns tracing on. Default: false.', default: false },
    endpoint: {
      type: 'string',
      description: `The collector's OTLP/HTTP traces URL (JSON encoding). Default: ${DEFAULT_TRACING_ENDPOINT}.`,
      pattern: '^https?://',
      maxLength: 2048,
      errorMessage: 'must be an http(s) URL',
      default: DEFAULT_TRACING_ENDPOINT,
    },
    serviceName: {
      type: 'string',
      description: `The service.name resource attribute of every span. Default: ${DEFAULT_SERVICE_NAME}.`,
      minLength: 1,
      maxLength: 256,
      default: DEFAULT_SERVICE_NAME,
    },
    sampleRatio: {
      type: 'number',
      description: 'Share of new traces (no trusted parent) that are recorded and exported, 0 to 1; a trusted parent\'s sampled flag decides for the traces it starts (parent-based sampling). Default: 1.',
      minimum: 0,
      maximum: 1,
      default: 1,
    },
    includeSubject: {
      type: 'boolean',
      description: 'Puts the verified token\'s `sub` on the request span as enduser.id. Off by default: a trace backend is often readable by more people than the access log. Default: false.',
      default: false,
    },
    trustParentFrom: {
      description: 'Whose traceparent/tracestate are continued: "trustedProxies" (the peers of server.trustedProxies) or a list of addresses and CIDR blocks. Anyone else\'s are dropped: the request starts a new trace and the upstream never sees the client\'s header. Default: trustedProxies.',
      default: 'trustedProxies',
      if: { type: 'string' },
      then: { type: 'string', enum: ['trustedProxies'], errorMessage: 'must be "trustedProxies" or a list of CIDR blocks' },
      else: { ...cidrList('Peers whose trace context is continued.'), type: 'array', errorMessage: 'must be "trustedProxies" or a list of CIDR blocks' },
    },
    headers: {
      type: 'object',
      description: 'Extra headers on every export request (a collector\'s API key, for instance). Default: {}.',
      propertyNames: headerName('Header name.'),
      additionalProperties: { type: 'string', maxLength: 8192 },
      maxProperties: 64,
      default: {},
    },
    exportTimeoutMs: integer('Deadline of one export request to the collector, in milliseconds; also bounds the flush at shutdown.', 1, 60000, 10000),
    maxQueueSize: integer('Most finished spans waiting for export; past it new spans are dropped (and counted in one warning), so a collector outage never grows memory.', 1, 1000000, 2048),
  },
} as const;
