/**
 * Prometheus metrics with the normative names of PRODUCT §6, on a registry of
 * our own (never prom-client's global one) so tests and reloads can build a
 * second Gateway side by side. One instance lives for the whole process and
 * survives config reloads, so counters do not reset on SIGHUP.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// Latency buckets in seconds: a gateway's own time is sub-millisecond, the
// upstream's can be seconds; both ends need resolution.
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class GatewayMetrics {
  readonly registry: Registry;
  readonly requestsTotal: Counter<'route' | 'method' | 'status' | 'decision'>;
  readonly requestDuration: Histogram<'route' | 'decision'>;
  readonly upstreamDuration: Histogram<'route'>;
  readonly authFailuresTotal: Counter<'provider' | 'reason'>;
  readonly ratelimitRejectionsTotal: Counter<'route' | 'policy'>;
  readonly wafMatchesTotal: Counter<'rule' | 'action'>;
  readonly jwksRefreshesTotal: Counter<'provider' | 'result'>;
  /** RFC 7662 calls (issue 14): result is active, inactive, error or timeout. */
  readonly introspectionRequestsTotal: Counter<'provider' | 'result'>;
  readonly redisErrorsTotal: Counter;
  readonly internalErrorsTotal: Counter<'stage'>;
  /** HTTPS listener (issue 7): certificate (re)loads, their expiry, and refused handshakes. */
  readonly tlsReloadsTotal: Counter<'certificate' | 'result'>;
  readonly tlsCertificateExpiry: Gauge<'certificate'>;
  readonly tlsHandshakeFailuresTotal: Counter<'reason'>;
  /** Issue 21: HTTP/2 sessions sent away over a budget, and upstream errors (logged rate-limited). */
  readonly http2GoawaysTotal: Counter<'reason'>;
  readonly upstreamErrorsTotal: Counter<'route' | 'reason'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [(this.registry = new Registry())];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.requestsTotal = new Counter({
      name: 'portcullis_requests_total',
      help: 'Requests answered, by route, method, status and pipeline decision.',
      labelNames: ['route', 'method', 'status', 'decision'] as const,
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'portcullis_request_duration_seconds',
      help: 'Time from request start to the end of the response, by route and decision.',
      labelNames: ['route', 'decision'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: 'portcullis_upstream_duration_seconds',
      help: 'Time from dispatch to the upstream until its response headers arrived.',
      labelNames: ['route'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.authFailuresTotal = new Counter({
      name: 'portcullis_auth_failures_total',
      help: 'Token verification failures, by provider and reason.',
      labelNames: ['provider', 'reason'] as const,
      registers,
    });
    this.ratelimitRejectionsTotal = new Counter({
      name: 'portcullis_ratelimit_rejections_total',
      help: 'Requests rejected by a rate-limit policy.',
      labelNames: ['route', 'policy'] as const,
      registers,
    });
    this.wafMatchesTotal = new Counter({
      name: 'portcullis_waf_matches_total',
      help: 'WAF rule matches, by rule id and action taken.',
      labelNames: ['rule', 'action'] as const,
      registers,
    });
    this.jwksRefreshesTotal = new Counter({
      name: 'portcullis_jwks_refreshes_total',
      help: 'JWKS fetches, by provider and result.',
      labelNames: ['provider', 'result'] as const,
      registers,
    });
    this.introspectionRequestsTotal = new Counter({
      name: 'portcullis_introspection_requests_total',
      help: 'Token introspection calls (RFC 7662), by provider and result (active, inactive, error, timeout); cache hits are not calls.',
      labelNames: ['provider', 'result'] as const,
      registers,
    });
    this.redisErrorsTotal = new Counter({
      name: 'portcullis_redis_errors_total',
      help: 'Redis commands that failed or timed out.',
      registers,
    });
    this.internalErrorsTotal = new Counter({
      name: 'portcullis_internal_errors_total',
      help: 'Unexpected exceptions caught by the pipeline runner (bugs), by stage.',
      labelNames: ['stage'] as const,
      registers,
    });
    this.tlsReloadsTotal = new Counter({
      name: 'portcullis_tls_certificate_reloads_total',
      help: 'HTTPS certificate loads after a file change or reload, by certificate (default or its first SNI host) and result (ok, rejected).',
      labelNames: ['certificate', 'result'] as const,
      registers,
    });
    this.tlsCertificateExpiry = new Gauge({
      name: 'portcullis_tls_certificate_expiry_timestamp_seconds',
      help: 'notAfter of the certificate each HTTPS certificate slot is serving, as a Unix timestamp.',
      labelNames: ['certificate'] as const,
      registers,
    });
    this.tlsHandshakeFailuresTotal = new Counter({
      name: 'portcullis_tls_handshake_failures_total',
      help: 'TLS handshakes the HTTPS listener refused or lost, by reason (client_certificate, protocol_version, timeout, other).',
      labelNames: ['reason'] as const,
      registers,
    });
    this.http2GoawaysTotal = new Counter({
      name: 'portcullis_http2_goaways_total',
      help: 'HTTP/2 sessions sent GOAWAY (ENHANCE_YOUR_CALM) and closed for going over a budget, by reason (stream_rate, reset_rate, control_frames, stalled_reader).',
      labelNames: ['reason'] as const,
      registers,
    });
    this.upstreamErrorsTotal = new Counter({
      name: 'portcullis_upstream_errors_total',
      help: 'Upstream requests that failed, by route and reason (an error code such as ECONNREFUSED or UND_ERR_HEADERS_TIMEOUT, or pool_queue_timeout); the log carries a rate-limited sample.',
      labelNames: ['route', 'reason'] as const,
      registers,
    });
  }
}
