/**
 * The shape of a validated config file (PRODUCT §3), after schema defaults
 * are applied. `schema.ts` is the source of truth for structure and defaults;
 * these types mirror it for the compiler. Key names are normative.
 */
import type { ProviderClientConfig, SessionsConfig } from '../session/schema.js';
import type { DpopConfig, DpopMode } from '../auth/schema.js';

export interface LimitsConfig {
  maxBodyBytes: number;
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Request bodies slower than this (while awaited, after the grace period) get 408; 0 = off. */
  minBodyBytesPerSec: number;
  minBodyRateGraceMs: number;
  /** Forwarded requests in flight per client address; 0 = no cap. */
  maxInFlightPerClient: number;
  http2: Http2LimitsConfig;
}

/** server.limits.http2 (issue 21, docs/http2.md). */
export interface Http2LimitsConfig {
  maxConcurrentStreams: number;
  maxTotalStreams: number;
  maxStreamsPerSecond: number;
  maxResetsPerWindow: number;
  maxSessionMemoryMb: number;
}

export interface ServerConfig {
  trustedProxies: string[];
  /** Well-known identity header names removed from every request (route/sanitise.ts InjectableHeaders). */
  stripIdentityHeaders: string[];
  limits: LimitsConfig;
  shutdownGraceMs: number;
  /** Worker processes (node:cluster); 1 = this process only, 0 = one per CPU (server/cluster/). */
  workers: number;
}

export interface PlainListenerConfig {
  host: string;
  port: number;
}

export interface HttpListenerConfig extends PlainListenerConfig {
  redirectToHttps: boolean;
  /** Port written in the redirect's Location; default listeners.https.port (443 is left out). */
  redirectPort?: number;
}

/** One extra certificate chosen by SNI (issue 7). */
export interface SniCertificateConfig {
  hosts: string[];
  cert: string;
  key: string;
}

/** The TLS keys `listeners.https` and `listeners.auth` share (issue 7, issue 14; server/tls-listener.ts). */
export interface ListenerTlsConfig {
  cert: string;
  key: string;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** PEM bundle of the CAs client certificates must chain to (mTLS). */
  clientCa?: string;
  requireClientCert: boolean;
  /** SNI pairs; always [] on the auth listener. */
  certificates: SniCertificateConfig[];
}

/** HTTPS with HTTP/2 by ALPN (issue 7; docs/tls.md). */
export interface HttpsListenerConfig extends PlainListenerConfig, ListenerTlsConfig {
  http2: boolean;
  /** Strict-Transport-Security value (RFC 6797), sent on every HTTPS response. */
  hsts?: string;
}

/** The forward-auth listener (issue 6); TLS when `cert` is set (issue 14). */
export interface AuthListenerConfig extends AuthListenerTlsKeys {
  /** > 0: allows of credential-only routes may be cached by the caller this long (forward-auth/cache.ts). */
  cacheMaxAgeSec: number;
  /** Unset: X-Original-URL is believed alone, and must agree with X-Original-URI when both come (forward-auth/nginx.ts). */
  trustOriginalUrl?: boolean;
}

/** Envoy ext_authz over gRPC (issue 19 item 4; forward-auth/grpc/): its own port, TLS as listeners.auth. */
export type AuthGrpcListenerConfig = AuthListenerTlsKeys;

/** The address and optional TLS of a forward-auth listener: plain HTTP (or h2c) without `cert`. */
export interface AuthListenerTlsKeys extends PlainListenerConfig {
  cert?: string;
  key?: string;
  /** Absent: TLSv1.2. */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  clientCa?: string;
  /** Absent: false. */
  requireClientCert?: boolean;
}

export interface ListenersConfig {
  http?: HttpListenerConfig;
  https?: HttpsListenerConfig;
  /** Forward-auth endpoints (issue 6; docs/forward-auth.md). */
  auth?: AuthListenerConfig;
  /** Envoy's ext_authz gRPC service (docs/forward-auth.md, "Envoy over gRPC"). */
  authGrpc?: AuthGrpcListenerConfig;
  admin?: PlainListenerConfig;
  /** Built-in echo upstream for the quick start and tests: answers JSON describing the request it got. */
  demo?: PlainListenerConfig;
}

export interface ProviderConfig {
  name: string;
  issuer: string;
  discovery?: boolean;
  jwksUri?: string;
  jwksFile?: string;
  /** HS* verification secret; never a public key. */
  secret?: string;
  audiences?: string[];
  algorithms: string[];
  clockToleranceSec: number;
  rolesClaim: string;
  scopesClaim: string;
  /** Minimum seconds between two JWKS refetches caused by an unknown kid. */
  jwksCooldownSec: number;
  /** RFC 9068 §4: the JWS `typ` every token must carry (`at+jwt`), compared case-insensitively. */
  requireTyp?: string;
  /** RFC 7662 token introspection (issue 14; auth/introspection.ts). */
  introspection?: IntrospectionConfig;
  client?: ProviderClientConfig;
  /** RFC 9449 DPoP for this provider's tokens (auth/dpop/); absent: off. */
  dpop?: DpopMode;
}

/** `auth.providers[].introspection`: where opaque (or all) tokens of this provider are checked. */
export interface IntrospectionConfig {
  /** Absent with `discovery: true`: the discovery document's `introspection_endpoint`. */
  endpoint?: string;
  clientId: string;
  clientSecret: string;
  /** RFC 6749 §2.3.1: HTTP Basic (default) or the form body. */
  authMethod: 'client_secret_basic' | 'client_secret_post';
  /** `opaque`: tokens that are not JWTs; `all`: every token whose iss names this provider too. */
  tokens: 'opaque' | 'all';
  timeoutMs: number;
  maxEntries: number;
  maxTtlSec: number;
  negativeTtlSec: number;
}

export type TokenSourceConfig = { header: string } | { cookie: string };

/** `auth.certificateBound`: RFC 8705 certificate-bound tokens (auth/cert-bound.ts). */
export interface CertificateBoundConfig {
  required: boolean;
  forwardedCertHeader?: string;
  forwardedCertFormat?: 'xfcc' | 'escaped-pem' | 'der-base64';
}

export interface AuthConfig {
  providers: ProviderConfig[];
  /** Schema default {}; absent only when the config was built by hand (tests). */
  certificateBound?: CertificateBoundConfig;
  tokenSources: TokenSourceConfig[];
  /** Longest token accepted, in bytes. */
  maxTokenBytes: number;
  /** Verified-token cache; maxEntries 0 disables it. */
  tokenCache: { maxEntries: number; maxTtlSec: number };
  /** Brute-force brake per client address; maxFailures 0 disables it. */
  bruteForce: { maxFailures: number; windowSec: number; blockSec: number };
  /** DPoP proof checking (RFC 9449; auth/dpop/). */
  dpop: DpopConfig;
}

/** TLS towards https:// upstreams (issue 7). */
export interface UpstreamTlsConfig {
  /** PEM CA bundle replacing the system roots. */
  ca?: string;
  /** Client certificate and key presented to the upstream (both or neither). */
  cert?: string;
  key?: string;
  /** Name sent in SNI and checked against the upstream's certificate; default the target's host. */
  serverName?: string;
  rejectUnauthorized: boolean;
}

export interface UpstreamTargetsConfig {
  targets: string[];
  timeoutMs: number;
  retries: number;
  tls?: UpstreamTlsConfig;
}

export interface RouteMatchConfig {
  hosts?: string[];
  /** Prefix on a segment boundary. */
  path?: string;
  /** Exact path; exclusive with `path`. */
  exactPath?: string;
  methods?: string[];
}

export interface RouteAuthConfig {
  providers?: string[];
  scopes?: string[];
  roles?: string[];
  claims?: Record<string, string | number | boolean>;
  /** A verified TLS client certificate is required (issue 7; docs/tls.md). */
  clientCert?: ClientCertAuthConfig;
  login?: string;
  /** RFC 9449 DPoP on this route; wins over the provider's. */
  dpop?: DpopMode;
}

/** Which verified client certificates a route accepts: any listed subject or SAN; both absent = any. */
export interface ClientCertAuthConfig {
  subjects?: string[];
  sans?: string[];
}

export interface RouteConfig {
  name: string;
  match: RouteMatchConfig;
  /** Absent: the route serves the forward-auth shape only; the edge answers it 404. */
  upstream?: string | UpstreamTargetsConfig;
  stripPrefix?: string;
  /** 'none' is explicit anonymous access; absent means a valid token is required. */
  auth?: 'none' | RouteAuthConfig;
  allowCidrs: string[];
  denyCidrs: string[];
  identityHeaders: Record<string, string>;
  requestHeaders: { set: Record<string, string>; remove: string[] };
  forwardAuthorization: boolean;
  /** Allow WebSocket upgrades on this route. */
  websocket: boolean;
  /** Name of a rateLimits.policies entry (issue 4). */
  rateLimit?: string;
  /** This route's WAF mode, overriding waf.mode (issue 5). */
  waf?: 'block' | 'detect' | 'off';
  /** A signed JWT for the upstream stating the caller (issue 20; identity-token/). */
  identityToken?: RouteIdentityTokenConfig;
}

/** `routes[].identityToken`; absent members take identity-token/schema.ts defaults. */
export interface RouteIdentityTokenConfig {
  header?: string;
  ttlSec?: number;
  claims?: string[];
  audience?: string;
}

/** Top-level `identityTokens`: the gateway's signing keys (identity-token/keys.ts). */
export interface IdentityTokensConfig {
  issuer: string;
  keys: { kid: string; alg: 'ES256' | 'EdDSA'; file?: string; pem?: string }[];
  current: string;
  jwksMaxAgeSec?: number;
}

export interface RedisNodeConfig {
  host: string;
  port: number;
}

/** Exactly one of url, sentinels (+ name) or cluster is set (checked in ratelimit/config-check.ts). */
export interface RedisConfig {
  url?: string;
  sentinels?: RedisNodeConfig[];
  name?: string;
  cluster?: RedisNodeConfig[];
  username?: string;
  password?: string;
  tls: boolean;
  keyPrefix: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
}

export interface RateLimitPolicyConfig {
  /** sub | ip | claim:<path> | header:<name> */
  key: string;
  capacity: number;
  refillPerSecond: number;
  /** Bounded local lease (issue 17): absent = exact mode, one Redis call per request. */
  lease?: RateLimitLeaseConfig;
}

export interface RateLimitLeaseConfig {
  /** Tokens taken from the shared bucket per Redis call (≤ capacity). */
  tokens: number;
  /** How long a lease may be spent; unspent tokens go back to the bucket after it. */
  ttlMs: number;
}

export interface RateLimitsConfig {
  failMode: 'open' | 'closed';
  localMaxBuckets: number;
  policies: Record<string, RateLimitPolicyConfig>;
}

export interface WafExclusionConfig {
  /** Route name; absent: every route. */
  route?: string;
  rules: number[];
  /** path | args | args:<name> | body | headers | headers:<name> | cookies | cookies:<name>; absent: everywhere. */
  target?: string;
}

export interface WafConfig {
  mode: 'block' | 'detect' | 'off';
  paranoia: number;
  anomalyThreshold: number;
  inspectBodyBytes: number;
  exclusions: WafExclusionConfig[];
  /** Run the OWASP CRS from this directory instead of the built-in rules (issue 18). */
  crs?: WafCrsConfig;
}

export interface WafCrsConfig {
  rulesDir: string;
  setup?: string;
  paranoia?: number;
  anomalyThreshold?: number;
  exclusions: string[];
}

export interface GatewayConfig {
  server: ServerConfig;
  listeners: ListenersConfig;
  auth?: AuthConfig;
  /** Shared rate-limit buckets; absent → in-process buckets (issue 4). */
  redis?: RedisConfig;
  rateLimits?: RateLimitsConfig;
  /** WAF signature engine (issue 5); absent → routes are inspected only when they set `waf`. */
  waf?: WafConfig;
  sessions?: SessionsConfig;
  identityTokens?: IdentityTokensConfig;
  /** OpenTelemetry tracing (issue 19); absent → off. */
  tracing?: TracingConfig;
  routes: RouteConfig[];
}

/** `tracing` (src/observe/schema.ts; docs/tracing.md). */
export interface TracingConfig {
  enabled: boolean;
  endpoint: string;
  serviceName: string;
  sampleRatio: number;
  includeSubject: boolean;
  /** 'trustedProxies', or addresses/CIDR blocks whose traceparent is continued. */
  trustParentFrom: 'trustedProxies' | string[];
  headers: Record<string, string>;
  exportTimeoutMs: number;
  maxQueueSize: number;
}
