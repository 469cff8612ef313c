/**
 * The shape of a validated config file (PRODUCT §3), after schema defaults
 * are applied. `schema.ts` is the source of truth for structure and defaults;
 * these types mirror it for the compiler. Key names are normative.
 */

export interface LimitsConfig {
  maxBodyBytes: number;
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export interface ServerConfig {
  trustedProxies: string[];
  limits: LimitsConfig;
  shutdownGraceMs: number;
}

export interface PlainListenerConfig {
  host: string;
  port: number;
}

export interface HttpListenerConfig extends PlainListenerConfig {
  redirectToHttps: boolean;
}

export interface ListenersConfig {
  http?: HttpListenerConfig;
  /** Forward-auth endpoints (issue 6). */
  auth?: PlainListenerConfig;
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
}

export type TokenSourceConfig = { header: string } | { cookie: string };

export interface AuthConfig {
  providers: ProviderConfig[];
  tokenSources: TokenSourceConfig[];
  /** Longest token accepted, in bytes. */
  maxTokenBytes: number;
  /** Verified-token cache; maxEntries 0 disables it. */
  tokenCache: { maxEntries: number; maxTtlSec: number };
  /** Brute-force brake per client address; maxFailures 0 disables it. */
  bruteForce: { maxFailures: number; windowSec: number; blockSec: number };
}

export interface UpstreamTargetsConfig {
  targets: string[];
  timeoutMs: number;
  retries: number;
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
}

export interface RouteConfig {
  name: string;
  match: RouteMatchConfig;
  upstream: string | UpstreamTargetsConfig;
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
}

export interface RateLimitsConfig {
  failMode: 'open' | 'closed';
  localMaxBuckets: number;
  policies: Record<string, RateLimitPolicyConfig>;
}

export interface GatewayConfig {
  server: ServerConfig;
  listeners: ListenersConfig;
  auth?: AuthConfig;
  /** Shared rate-limit buckets; absent → in-process buckets (issue 4). */
  redis?: RedisConfig;
  rateLimits?: RateLimitsConfig;
  routes: RouteConfig[];
}
