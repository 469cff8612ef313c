/**
 * JSON Schema (draft-07) of the config file: THE source of truth for its
 * structure, bounds and defaults (PRODUCT §3, STYLE §4). `types.ts` mirrors it
 * for the compiler; `config/gateway.schema.json` is generated from it for
 * editors (`npm run schema:gen`, drift-checked by `npm run schema:check`).
 *
 * The `description` of every key is the user-facing config reference, as the
 * comments of Envoy's protos are: say the unit, the default and the meaning.
 *
 * Two conventions keep ajv's output readable (see messages.ts):
 * - `errorMessage` (a custom annotation keyword, also understood by VS Code)
 *   replaces ajv's generic text for this schema's own pattern/enum/not/anyOf
 *   failures, and for a wrong-type value of an if/then/else union.
 * - Unions with defaults use if/then/else, not oneOf: ajv ignores (and in
 *   strict mode refuses) `default` under oneOf/anyOf, and a oneOf reports the
 *   failures of every branch, while if/then/else reports only the branch the
 *   value's type selects.
 */

import { cidrList, CLAIM_PATH_MESSAGE, CLAIM_PATH_PATTERN, headerName, integer, NAME_MESSAGE, NAME_PATTERN, nonEmptyString, pathString, stringList } from './schema-kit.js';
import { RATE_LIMITS_SCHEMA, REDIS_SCHEMA, ROUTE_RATE_LIMIT_SCHEMA } from '../ratelimit/schema.js';
import { ROUTE_WAF_SCHEMA, WAF_SCHEMA } from '../waf/schema.js';
import { AUTH_SCHEMA, DPOP_MODE_SCHEMA } from '../auth/schema.js';
import { TRACING_SCHEMA } from './tracing-schema.js';
import { PROVIDER_CLIENT_SCHEMA, ROUTE_LOGIN_SCHEMA, SESSIONS_SCHEMA } from '../session/schema.js';
import { AUTH_LISTENER_TLS_PROPERTIES, CLIENT_CERT_AUTH_SCHEMA, HTTPS_LISTENER_SCHEMA, REDIRECT_PORT_SCHEMA, UPSTREAM_TLS_SCHEMA } from '../tls/schema.js';
import { IDENTITY_TOKENS_SCHEMA, ROUTE_IDENTITY_TOKEN_SCHEMA } from '../identity-token/schema.js';

/** `$id` of the schema; bump the version suffix on an incompatible change. */
export const SCHEMA_ID = 'urn:portcullis:config:gateway:v1';
/** The JSON Schema draft the schema is written in (ajv's default `Ajv` class speaks it). */
export const SCHEMA_DRAFT = 'http://json-schema.org/draft-07/schema#';

/** Methods a route may match on (uppercase, as on the wire). */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'] as const;
/**
 * Identity header names other auth proxies set and the upstreams written for them trust:
 * oauth2-proxy (X-Forwarded-*), Authelia / Authentik-style (Remote-*), Apache (X-Remote-User),
 * Grafana's auth proxy (X-WEBAUTH-USER), and the generic X-Auth-User. Never a client's to send.
 */
export const DEFAULT_STRIP_IDENTITY_HEADERS = Object.freeze([
  'X-Forwarded-User', 'X-Forwarded-Email', 'X-Forwarded-Preferred-Username', 'X-Forwarded-Groups', 'X-Forwarded-Access-Token',
  'Remote-User', 'Remote-Email', 'Remote-Groups', 'Remote-Name', 'X-Remote-User', 'X-Auth-User', 'X-WEBAUTH-USER',
] as const);

const listenerProperties = {
  host: {
    ...nonEmptyString('Address to bind: an IP address such as 0.0.0.0, 127.0.0.1 or ::, or a host name.'),
    pattern: '^[A-Za-z0-9.:_-]+$',
    errorMessage: 'must be an IP address or host name',
  },
  port: integer('TCP port to bind. 0 lets the OS pick a free port (used by tests).', 0, 65535),
};

const listener = (description: string) => ({
  type: 'object',
  description,
  additionalProperties: false,
  required: ['host', 'port'],
  properties: listenerProperties,
});

/**
 * Per-session budgets of the HTTP/2 side of the HTTPS listener (issue 21, docs/http2.md). A session
 * that goes over a rate budget gets GOAWAY(ENHANCE_YOUR_CALM) and is closed, as nginx, Envoy and Go
 * do since CVE-2023-44487 (rapid reset).
 */
const HTTP2_LIMITS_SCHEMA = {
  type: 'object',
  description: 'Budgets of each HTTP/2 session on the HTTPS listener; a session over a rate budget gets GOAWAY (ENHANCE_YOUR_CALM) and is closed. Default: {} (all defaults). See docs/http2.md.',
  additionalProperties: false,
  default: {},
  properties: {
    maxConcurrentStreams: integer('Streams one session may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS); streams past it are refused (RST_STREAM REFUSED_STREAM).', 1, 1000, 128),
    maxTotalStreams: integer('Streams open at once over all HTTP/2 sessions of the process; a new stream past it is refused (REFUSED_STREAM) before any work is done for it.', 1, 1000000, 8192),
    maxStreamsPerSecond: integer('Streams one session may open per second, as a token bucket holding one second of streams (so a burst of this many is allowed); over it, GOAWAY.', 1, 1000000, 1000),
    maxResetsPerWindow: integer('Streams one session may reset (RST_STREAM) before their response started, per 10-second window; over it, GOAWAY. This is the rapid-reset guard.', 1, 1000000, 200),
    maxSessionMemoryMb: integer("Memory one session may hold in Node's HTTP/2 layer (header blocks, frames waiting to be sent), in MB (Node's maxSessionMemory); over it, new streams are refused with ENHANCE_YOUR_CALM.", 1, 1024, 10),
  },
};

const server = {
  type: 'object',
  description: 'Process-wide settings shared by every listener. Default: {} (all defaults).',
  additionalProperties: false,
  default: {},
  properties: {
    trustedProxies: cidrList(
      'Peers whose X-Forwarded-For, X-Request-Id and forward-auth X-Original-*/X-Forwarded-* headers are believed, hop by hop. Nothing is trusted by default.',
    ),
    stripIdentityHeaders: {
      type: 'array',
      description: `Identity headers other auth proxies set (oauth2-proxy, Authelia, Apache, Grafana) and upstreams written for them trust: a client's copies are removed from every forwarded request, on every route (auth: none included), compared like identityHeaders names (any case; "_" and "." read as "-"); in the forward-auth shape Envoy is told to remove them (x-envoy-auth-headers-to-remove), and the shipped NGINX config clears them. X-Auth-Request-* and every route's identityHeaders are removed whatever this says. A route's own identityHeaders and requestHeaders.set values are added after the removal. Replaces the list: [] lets them through. Default: [${DEFAULT_STRIP_IDENTITY_HEADERS.join(', ')}].`,
      items: headerName('Header name.'),
      uniqueItems: true,
      maxItems: 256,
      default: [...DEFAULT_STRIP_IDENTITY_HEADERS],
    },
    limits: {
      type: 'object',
      description: 'Bounds on each request, applied before any route logic. Default: {} (all defaults).',
      additionalProperties: false,
      default: {},
      properties: {
        maxBodyBytes: integer('Largest request body accepted, in bytes; larger bodies get 413. 0 rejects any body.', 0, 1073741824, 1048576),
        maxHeaderBytes: integer('Largest request head (request line plus headers) accepted, in bytes; larger heads get 431.', 1024, 1048576, 16384),
        headersTimeoutMs: integer('Time allowed to receive the complete request head, in milliseconds (slowloris guard). Must not exceed requestTimeoutMs.', 1, 600000, 10000),
        requestTimeoutMs: integer('Time allowed to receive the complete request (head and body), in milliseconds, counted from its first byte whatever arrives meanwhile, on HTTP/1.1 and HTTP/2 alike: a request still incomplete then gets 408 (or, once its response has started, its connection or HTTP/2 stream is cut) and its upstream request is aborted.', 1, 3600000, 30000),
        keepAliveTimeoutMs: integer('How long an idle keep-alive connection stays open, in milliseconds.', 1, 600000, 5000),
        minBodyBytesPerSec: integer(
          'Slowest average rate a request body may arrive at, in bytes per second, counted only while the gateway is waiting for the client (not while the upstream or a full connection pool holds the body back); a slower body gets 408 and its upstream request is aborted. Checked once the body has been awaited for minBodyRateGraceMs. 0 turns the check off. The default is Kestrel\'s MinRequestBodyDataRate: far below any real uplink, far above a body dripped a byte at a time (docs/operations.md).',
          0, 1073741824, 240,
        ),
        minBodyRateGraceMs: integer('How long a request body may be awaited before minBodyBytesPerSec applies, in milliseconds (a client ramping up, a mobile radio waking).', 0, 3600000, 5000),
        maxInFlightPerClient: integer(
          'Most requests one client address (as the gateway computes it: the peer, or X-Forwarded-For from server.trustedProxies) may have forwarded to upstreams at once, over all routes; one more gets 429 with Retry-After: 1 until one of them ends. So one client cannot take the 256 connections of a target\'s pool. The default fits a browser\'s whole HTTP/2 session (128 streams) and is half a pool. 0 turns the cap off.',
          0, 1000000, 128,
        ),
        http2: HTTP2_LIMITS_SCHEMA,
      },
    },
    shutdownGraceMs: integer(
      'On SIGTERM/SIGINT, how long in-flight requests may take to finish before their connections are closed, in milliseconds.',
      0, 600000, 10000,
    ),
    workers: integer(
      'Processes serving traffic (node:cluster). 1 runs the gateway in this process; N > 1 forks N workers that share the listening ports (connections handed out round-robin), each running the whole gateway, while the primary serves the admin listener with the metrics of all workers summed; 0 means one per CPU. Rate-limit buckets are shared between workers only through `redis`. SIGHUP is forwarded to every worker; a crashed worker is replaced. Changing it needs a restart (docs/performance.md).',
      0, 128, 1,
    ),
  },
};

const listeners = {
  type: 'object',
  description: 'Sockets to listen on. At least one is required; each is optional.',
  additionalProperties: false,
  minProperties: 1,
  errorMessage: 'must define at least one listener (http, https, auth, authGrpc, admin or demo)',
  properties: {
    http: {
      ...listener('Plain-HTTP listener for proxied traffic (edge shape).'),
      properties: {
        ...listenerProperties,
        redirectToHttps: {
          type: 'boolean',
          description: 'Answer every request on this listener with a 308 redirect to the same URL on the HTTPS listener (which must exist) instead of proxying it. Requests a trusted proxy marks X-Forwarded-Proto: https are proxied. Default: false.',
          default: false,
        },
        redirectPort: REDIRECT_PORT_SCHEMA,
      },
    },
    https: HTTPS_LISTENER_SCHEMA,
    auth: {
      ...listener('Forward-auth listener: /nginx (NGINX auth_request, ingress-nginx auth-url), /traefik (Traefik ForwardAuth) and /envoy/… (Envoy ext_authz HTTP service). With cert and key it speaks TLS (HTTP/1.1), with clientCa mTLS: the same keys and implementation as listeners.https. See docs/forward-auth.md.'),
      properties: {
        ...listenerProperties,
        ...AUTH_LISTENER_TLS_PROPERTIES,
        cacheMaxAgeSec: integer(
          'Lets a cache on the caller (NGINX proxy_cache, ingress-nginx auth-cache-key) keep an allow for up to this many seconds (never past the token exp), with Vary on the token headers: only for routes whose only stages are authentication and authorisation. 0: every answer is Cache-Control: no-store.',
          0, 3600, 0,
        ),
        trustOriginalUrl: {
          type: 'boolean',
          description: 'Which header names the original request on /nginx. Unset (the default): X-Original-URI alone (plain NGINX, config/nginx/nginx.conf) is read with Host / X-Forwarded-Host and X-Forwarded-Proto; X-Original-URL alone (ingress-nginx, which writes `$scheme://$http_host$request_uri` and no X-Original-URI) is read with its own host and scheme from a caller inside server.trustedProxies; when both arrive, one is a client\'s copy, so they must name the same path, query, host and scheme, else 400. true: X-Original-URL is required and wins (X-Forwarded-Host is never read); an X-Original-URI beside it must name the same path and query. false: X-Original-URI is required and a request carrying X-Original-URL is refused (400).',
        },
      },
    },
    authGrpc: {
      ...listener('Forward-auth over gRPC: Envoy\'s ext_authz gRPC service (envoy.service.auth.v3.Authorization/Check), answering from the same decision as /envoy/… on listeners.auth. HTTP/2 on a port of its own, in clear text (h2c) unless cert and key are set; then TLS with ALPN h2, and with clientCa mTLS: the same keys and implementation as listeners.auth. See docs/forward-auth.md.'),
      properties: { ...listenerProperties, ...AUTH_LISTENER_TLS_PROPERTIES },
    },
    admin: listener('Admin listener: /metrics, /healthz, /readyz. Bind it to a private address such as 127.0.0.1.'),
    demo: listener('Built-in echo upstream for the quick start and tests: answers JSON describing the request it received. Never expose it.'),
  },
};

const routeAuth = {
  description: "'none' for anonymous access, or the token requirements. A route WITHOUT `auth` requires a valid token from any provider.",
  errorMessage: 'must be "none" or { providers, scopes, roles, claims, clientCert, login, dpop }',
  if: { type: 'string' },
  then: { type: 'string', enum: ['none'] },
  else: {
    type: 'object',
    additionalProperties: false,
    properties: {
      providers: {
        ...stringList('Providers whose tokens this route accepts. Absent: any configured provider.', 'A provider name from auth.providers.', 64),
        minItems: 1,
      },
      scopes: stringList("Scopes the token must all carry, read from the provider's scopesClaim (a space-separated string or an array; `scp` when the token has no scopesClaim). 403 insufficient_scope otherwise.", 'A required scope (RFC 6749 §3.3 scope-token: no spaces, quotes or backslashes).', 64),
      roles: stringList("Roles of which the token must carry at least one, read from the provider's rolesClaim (403 insufficient_scope otherwise).", 'An accepted role.', 64),
      claims: {
        type: 'object',
        description: 'Claims that must equal the given values exactly (same JSON type), by dotted claim path: { tenant: acme }. When the claim is an array, the value must be one of its elements. 403 insufficient_scope otherwise.',
        maxProperties: 64,
        propertyNames: { pattern: CLAIM_PATH_PATTERN, errorMessage: CLAIM_PATH_MESSAGE },
        additionalProperties: {
          description: 'The required claim value.',
          errorMessage: 'must be a string, number or boolean',
          anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }],
        },
      },
      clientCert: CLIENT_CERT_AUTH_SCHEMA,
      login: ROUTE_LOGIN_SCHEMA,
      dpop: DPOP_MODE_SCHEMA,
    },
  },
};

const upstream = {
  description: 'Where allowed requests are forwarded: an http(s) URL (no credentials, query or fragment), or { targets, timeoutMs, retries }. Absent: the route serves only the forward-auth shape (listeners.auth); the edge listeners answer it 404, as if it did not exist.',
  errorMessage: 'must be an http(s) URL or { targets, timeoutMs, retries, tls }',
  if: { type: 'string' },
  then: { type: 'string' },
  else: {
    type: 'object',
    additionalProperties: false,
    required: ['targets'],
    properties: {
      targets: { ...stringList('http(s) URLs of equivalent upstream instances, used in turn.', 'An http(s) URL without credentials, query or fragment.', 64), minItems: 1 },
      timeoutMs: integer('Time allowed for the upstream response headers, in milliseconds; then 504.', 1, 3600000, 30000),
      retries: integer('Further attempts on another target after a connection failure.', 0, 10, 1),
      tls: UPSTREAM_TLS_SCHEMA,
    },
  },
};

const route = {
  type: 'object',
  description: 'One route. The first route whose match fits the request wins; no match is 404.',
  additionalProperties: false,
  required: ['name', 'match'],
  properties: {
    name: { ...nonEmptyString('Unique route name, used in logs and metrics.'), pattern: NAME_PATTERN, errorMessage: NAME_MESSAGE },
    match: {
      type: 'object',
      description: 'Which requests this route takes. Every key given must match; {} matches every request.',
      additionalProperties: false,
      not: { properties: { path: true, exactPath: true }, required: ['path', 'exactPath'] },
      errorMessage: 'must not set both path and exactPath',
      properties: {
        hosts: {
          ...stringList('Host names (lowercase, no port) or *.wildcards such as *.example.com. Absent: any host.', 'A host name or *.wildcard.', 256),
          minItems: 1,
        },
        path: pathString('Path prefix, matched on a segment boundary (/api matches /api and /api/x, not /apix) against the normalised path. Absent with exactPath absent: every path.'),
        exactPath: pathString('Exact path, matched against the normalised path; exclusive with path.'),
        methods: {
          type: 'array',
          description: 'HTTP methods (uppercase). Absent: any method.',
          items: { type: 'string', description: 'An HTTP method.', enum: HTTP_METHODS },
          minItems: 1,
          uniqueItems: true,
        },
      },
    },
    upstream,
    stripPrefix: pathString('Path prefix removed before forwarding (/api turns /api/v1/x into /v1/x).'),
    auth: routeAuth,
    allowCidrs: cidrList('When non-empty, only clients inside these blocks may use the route (403 otherwise).'),
    denyCidrs: cidrList('Clients inside these blocks get 403; checked after allowCidrs.'),
    identityHeaders: {
      type: 'object',
      description: 'Headers set from verified claims for the upstream (or the forward-auth caller): { X-User-Id: sub }. Incoming copies are always removed. Default: {}.',
      default: {},
      maxProperties: 64,
      propertyNames: headerName('Header name.'),
      additionalProperties: { ...nonEmptyString('Dotted claim path.'), pattern: CLAIM_PATH_PATTERN, errorMessage: CLAIM_PATH_MESSAGE },
    },
    requestHeaders: {
      type: 'object',
      description: 'Static changes to the forwarded request headers. Default: { set: {}, remove: [] }.',
      additionalProperties: false,
      default: { set: {}, remove: [] },
      properties: {
        set: {
          type: 'object',
          description: 'Headers to set, replacing incoming values: { X-Env: prod }. Every client copy of a set name is removed first, in any case and in the `_` / `.` spellings upstream frameworks fold into `-` (X_Env, x.env). Default: {}.',
          default: {},
          maxProperties: 64,
          propertyNames: headerName('Header name.'),
          additionalProperties: { type: 'string', description: 'Header value.', maxLength: 8192 },
        },
        remove: {
          type: 'array',
          description: 'Headers to remove, case-insensitive. Default: [].',
          items: headerName('Header name.'),
          maxItems: 64,
          default: [],
        },
      },
    },
    forwardAuthorization: {
      type: 'boolean',
      description: 'Forward the credential to the upstream. false removes the Authorization header, every token header of auth.tokenSources and the token cookie (other cookies pass). Default: true.',
      default: true,
    },
    websocket: { type: 'boolean', description: 'Allow WebSocket upgrades on this route. Default: false.', default: false },
    rateLimit: ROUTE_RATE_LIMIT_SCHEMA,
    waf: ROUTE_WAF_SCHEMA,
    identityToken: ROUTE_IDENTITY_TOKEN_SCHEMA,
  },
};

/** The whole config file. validate.ts compiles it; write-schema.ts ships it as config/gateway.schema.json. */
/**
 * `auth.providers[].client` (browser sign-in, session/schema.ts) joins the provider here: a
 * stage's schema fragment imports only config/ (docs/architecture.md), so auth/ cannot name it.
 */
const AUTH_WITH_SIGN_IN = (() => {
  const providers = AUTH_SCHEMA.properties.providers;
  const provider = providers.items;
  return {
    ...AUTH_SCHEMA,
    properties: {
      ...AUTH_SCHEMA.properties,
      providers: { ...providers, items: { ...provider, properties: { ...provider.properties, client: PROVIDER_CLIENT_SCHEMA } } },
    },
  };
})();

export const CONFIG_SCHEMA = {
  $schema: SCHEMA_DRAFT,
  $id: SCHEMA_ID,
  title: 'Portcullis gateway configuration',
  description: 'Portcullis config file (YAML; ${ENV} and ${ENV:-default} are interpolated in values). Unknown keys are errors.',
  type: 'object',
  additionalProperties: false,
  required: ['listeners', 'routes'],
  properties: {
    server,
    listeners,
    auth: AUTH_WITH_SIGN_IN,
    redis: REDIS_SCHEMA,
    rateLimits: RATE_LIMITS_SCHEMA,
    waf: WAF_SCHEMA,
    sessions: SESSIONS_SCHEMA,
    identityTokens: IDENTITY_TOKENS_SCHEMA,
    tracing: TRACING_SCHEMA,
    routes: { type: 'array', description: 'Routes, tried in order. May be empty (everything is then 404).', items: route, maxItems: 10000 },
  },
} as const;
