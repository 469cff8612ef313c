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

import { RATE_LIMITS_SCHEMA, REDIS_SCHEMA, ROUTE_RATE_LIMIT_SCHEMA } from '../ratelimit/schema.js';
import { ROUTE_WAF_SCHEMA, WAF_SCHEMA } from '../waf/schema.js';
import { PROVIDER_CLIENT_SCHEMA, ROUTE_LOGIN_SCHEMA, SESSIONS_SCHEMA } from '../session/schema.js';
import { CLIENT_CERT_AUTH_SCHEMA, HTTPS_LISTENER_SCHEMA, REDIRECT_PORT_SCHEMA, UPSTREAM_TLS_SCHEMA } from '../server/tls-schema.js';

/** `$id` of the schema; bump the version suffix on an incompatible change. */
export const SCHEMA_ID = 'urn:portcullis:config:gateway:v1';
/** The JSON Schema draft the schema is written in (ajv's default `Ajv` class speaks it). */
export const SCHEMA_DRAFT = 'http://json-schema.org/draft-07/schema#';

/** Methods a route may match on (uppercase, as on the wire). */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'] as const;
/** JWS algorithms a provider may accept. 'none' is deliberately absent (PRODUCT §3). */
export const JWS_ALGORITHMS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512',
] as const;
/** Defaults of the `auth` tuning keys; src/auth/compile.ts applies them too when `auth` is absent. */
export const AUTH_DEFAULTS = Object.freeze({
  maxTokenBytes: 8192,
  tokenCache: Object.freeze({ maxEntries: 10000, maxTtlSec: 300 }),
  bruteForce: Object.freeze({ maxFailures: 20, windowSec: 60, blockSec: 300 }),
});

/** RFC 7230 §3.2.6 `token`: the characters allowed in a header name (and an RFC 6265 cookie name). */
const TOKEN_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
const NAME_MESSAGE = 'must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit';
/** Dotted path into the JWT payload (`realm_access.roles`): no empty segments, no whitespace. */
const CLAIM_PATH_PATTERN = '^[^.\\s]+(\\.[^.\\s]+)*$';
const CLAIM_PATH_MESSAGE = 'must be a claim name or dotted claim path such as realm_access.roles';

const headerName = (description: string) => ({
  type: 'string',
  description,
  pattern: TOKEN_PATTERN,
  errorMessage: 'must be a valid HTTP header name (RFC 7230 token characters)',
});

const nonEmptyString = (description: string) => ({ type: 'string', description, minLength: 1 });

const stringList = (description: string, item: string, maxItems: number) => ({
  type: 'array',
  description,
  items: nonEmptyString(item),
  uniqueItems: true,
  maxItems,
});

const cidrList = (description: string) => ({
  type: 'array',
  description: `${description} Default: [].`,
  items: nonEmptyString('An IPv4 or IPv6 address (a single host) or a CIDR block such as 10.0.0.0/8 or fd00::/8.'),
  maxItems: 4096,
  default: [],
});

const integer = (description: string, minimum: number, maximum: number, dflt?: number) => ({
  type: 'integer',
  description: dflt === undefined ? description : `${description} Default: ${dflt}.`,
  minimum,
  maximum,
  ...(dflt === undefined ? {} : { default: dflt }),
});

const pathString = (description: string) => ({
  type: 'string',
  description,
  pattern: '^/',
  maxLength: 2048,
  errorMessage: 'must start with "/"',
});

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

const server = {
  type: 'object',
  description: 'Process-wide settings shared by every listener. Default: {} (all defaults).',
  additionalProperties: false,
  default: {},
  properties: {
    trustedProxies: cidrList(
      'Peers whose X-Forwarded-For, X-Request-Id and forward-auth X-Original-*/X-Forwarded-* headers are believed, hop by hop. Nothing is trusted by default.',
    ),
    limits: {
      type: 'object',
      description: 'Bounds on each request, applied before any route logic. Default: {} (all defaults).',
      additionalProperties: false,
      default: {},
      properties: {
        maxBodyBytes: integer('Largest request body accepted, in bytes; larger bodies get 413. 0 rejects any body.', 0, 1073741824, 1048576),
        maxHeaderBytes: integer('Largest request head (request line plus headers) accepted, in bytes; larger heads get 431.', 1024, 1048576, 16384),
        headersTimeoutMs: integer('Time allowed to receive the complete request head, in milliseconds (slowloris guard). Must not exceed requestTimeoutMs.', 1, 600000, 10000),
        requestTimeoutMs: integer('Time allowed to receive the complete request (head and body), in milliseconds.', 1, 3600000, 30000),
        keepAliveTimeoutMs: integer('How long an idle keep-alive connection stays open, in milliseconds.', 1, 600000, 5000),
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
  errorMessage: 'must define at least one listener (http, https, auth, admin or demo)',
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
      ...listener('Forward-auth listener: /nginx (NGINX auth_request, ingress-nginx auth-url), /traefik (Traefik ForwardAuth) and /envoy/… (Envoy ext_authz HTTP service). See docs/forward-auth.md.'),
      properties: {
        ...listenerProperties,
        cacheMaxAgeSec: integer(
          'Lets a cache on the caller (NGINX proxy_cache, ingress-nginx auth-cache-key) keep an allow for up to this many seconds (never past the token exp), with Vary on the token headers: only for routes whose only stages are authentication and authorisation. 0: every answer is Cache-Control: no-store.',
          0, 3600, 0,
        ),
      },
    },
    admin: listener('Admin listener: /metrics, /healthz, /readyz. Bind it to a private address such as 127.0.0.1.'),
    demo: listener('Built-in echo upstream for the quick start and tests: answers JSON describing the request it received. Never expose it.'),
  },
};

const provider = {
  type: 'object',
  description:
    'One token issuer. Set exactly one key source: discovery: true, jwksUri, jwksFile, or (for HS* algorithms only) secret.',
  additionalProperties: false,
  required: ['name', 'issuer'],
  properties: {
    name: { ...nonEmptyString('Provider name, referenced from routes[].auth.providers and used as the metrics label.'), pattern: NAME_PATTERN, errorMessage: NAME_MESSAGE },
    issuer: nonEmptyString("Expected `iss` claim, compared exactly; it selects the provider for a token. With discovery, also the base URL of {issuer}/.well-known/openid-configuration."),
    discovery: {
      type: 'boolean',
      description: "Fetch the keys' location (jwks_uri) from the issuer's OpenID discovery document. Default: false.",
      default: false,
    },
    jwksUri: nonEmptyString('http(s) URL of the JSON Web Key Set holding the verification keys.'),
    jwksFile: nonEmptyString('Path of a local JSON Web Key Set file (relative paths are resolved from the working directory).'),
    secret: {
      type: 'string',
      description: 'Shared secret for HS256/HS384/HS512 tokens, at least 32 characters (RFC 7518 §3.2). Prefer ${ENV} interpolation to writing it in the file.',
      minLength: 32,
    },
    audiences: {
      ...stringList('When set, the token `aud` must contain one of these values. Absent: `aud` is not checked.', 'An accepted audience.', 64),
      minItems: 1,
    },
    algorithms: {
      type: 'array',
      description: "Accepted JWS `alg` values. 'none' is never accepted; HS* only together with `secret`. Default: [RS256, ES256, EdDSA].",
      items: { type: 'string', description: 'A JWS algorithm.', enum: JWS_ALGORITHMS },
      minItems: 1,
      uniqueItems: true,
      default: ['RS256', 'ES256', 'EdDSA'],
    },
    clockToleranceSec: integer('Allowed clock skew when checking exp, nbf and iat, in seconds.', 0, 300, 30),
    rolesClaim: {
      ...nonEmptyString('Dotted path of the roles in the token payload (an array or a space-separated string). Default: realm_access.roles.'),
      pattern: CLAIM_PATH_PATTERN,
      errorMessage: CLAIM_PATH_MESSAGE,
      default: 'realm_access.roles',
    },
    scopesClaim: {
      ...nonEmptyString('Dotted path of the scopes in the token payload (a space-separated string or an array, as `scp`). Default: scope.'),
      pattern: CLAIM_PATH_PATTERN,
      errorMessage: CLAIM_PATH_MESSAGE,
      default: 'scope',
    },
    jwksCooldownSec: integer(
      'Minimum time between two JWKS refetches triggered by a token with an unknown `kid`, in seconds; bounds the load forged tokens can put on the issuer. 0 disables the cooldown (not recommended).',
      0, 3600, 30,
    ),
    client: PROVIDER_CLIENT_SCHEMA,
  },
};

const auth = {
  type: 'object',
  description: 'Token verification: the trusted issuers and where tokens are read from.',
  additionalProperties: false,
  required: ['providers'],
  properties: {
    providers: { type: 'array', description: 'Trusted token issuers. A token is checked against the provider whose issuer equals its `iss`.', items: provider, maxItems: 64 },
    tokenSources: {
      type: 'array',
      description: 'Where to look for the token, first match wins. `header: authorization` reads `Authorization: Bearer <token>`; any other header is read whole. Default: [{ header: authorization }].',
      minItems: 1,
      maxItems: 16,
      default: [{ header: 'authorization' }],
      items: {
        type: 'object',
        description: 'One token source: either { header: <name> } or { cookie: <name> }.',
        additionalProperties: false,
        minProperties: 1,
        maxProperties: 1,
        errorMessage: 'must have exactly one of header or cookie',
        properties: {
          header: headerName('Request header carrying the token (case-insensitive).'),
          cookie: { ...headerName('Cookie carrying the token.'), errorMessage: 'must be a valid cookie name (RFC 6265 token characters)' },
        },
      },
    },
    maxTokenBytes: integer(
      'Longest token accepted, in bytes; longer ones are refused (401 invalid_token) before any decoding.',
      1024, 65536, AUTH_DEFAULTS.maxTokenBytes,
    ),
    tokenCache: {
      type: 'object',
      description: 'Verified-token cache: a token verified once is not verified again until it expires, the provider\'s keys change, or maxTtlSec passes. Route checks (scopes, roles, claims) still run on every request. Default: {} (all defaults).',
      additionalProperties: false,
      default: {},
      properties: {
        maxEntries: integer('Most tokens remembered (least recently used evicted). 0 disables the cache.', 0, 1000000, AUTH_DEFAULTS.tokenCache.maxEntries),
        maxTtlSec: integer('Longest a verification is remembered, in seconds, even when the token lives longer.', 1, 86400, AUTH_DEFAULTS.tokenCache.maxTtlSec),
      },
    },
    bruteForce: {
      type: 'object',
      description: 'Brute-force brake: a client address (IPv6: its /64) presenting more than maxFailures invalid tokens within windowSec gets 429 with Retry-After for blockSec, on every authenticated route. Counted per instance, in memory. Default: {} (all defaults).',
      additionalProperties: false,
      default: {},
      properties: {
        maxFailures: integer('Invalid tokens allowed per window. 0 disables the brake.', 0, 1000000, AUTH_DEFAULTS.bruteForce.maxFailures),
        windowSec: integer('Length of the counting window, in seconds.', 1, 86400, AUTH_DEFAULTS.bruteForce.windowSec),
        blockSec: integer('How long a client stays blocked, in seconds.', 1, 86400, AUTH_DEFAULTS.bruteForce.blockSec),
      },
    },
  },
};

const routeAuth = {
  description: "'none' for anonymous access, or the token requirements. A route WITHOUT `auth` requires a valid token from any provider.",
  errorMessage: 'must be "none" or { providers, scopes, roles, claims, clientCert, login }',
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
          description: 'Headers to set (replacing incoming values): { X-Env: prod }. Default: {}.',
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
  },
};

/** The whole config file. validate.ts compiles it; write-schema.ts ships it as config/gateway.schema.json. */
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
    auth,
    redis: REDIS_SCHEMA,
    rateLimits: RATE_LIMITS_SCHEMA,
    waf: WAF_SCHEMA,
    sessions: SESSIONS_SCHEMA,
    routes: { type: 'array', description: 'Routes, tried in order. May be empty (everything is then 404).', items: route, maxItems: 10000 },
  },
} as const;
