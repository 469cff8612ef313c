/**
 * Config schema fragments of the provider keys added in issue 14 (PRODUCT §8, normative
 * names): `requireTyp` (RFC 9068) and `introspection` (RFC 7662), owned here and spliced into
 * config/schema.ts's provider, as ratelimit/schema.ts's fragments are. The descriptions are the
 * config reference; docs/auth.md tells the longer story.
 */
import { DPOP_MODE_SCHEMA, DPOP_SCHEMA } from './dpop/schema.js';
import { CLAIM_PATH_MESSAGE, CLAIM_PATH_PATTERN, headerName, integer, NAME_MESSAGE, NAME_PATTERN, nonEmptyString, stringList } from '../config/schema-kit.js';

/** Defaults of `introspection`; src/auth/introspection.ts reads them from the validated config. */
export const INTROSPECTION_DEFAULTS = Object.freeze({
  authMethod: 'client_secret_basic',
  tokens: 'opaque',
  timeoutMs: 2000,
  maxEntries: 10000,
  maxTtlSec: 300,
  negativeTtlSec: 10,
});

export const REQUIRE_TYP_SCHEMA = {
  type: 'string',
  description:
    'RFC 9068 §4: every JWT of this provider must carry this `typ` header, compared case-insensitively and with or without "application/" (at+jwt matches "at+jwt", "AT+JWT" and "application/at+jwt"). ' +
    'Refuses ID tokens (typ JWT or none) used as access tokens: 401 invalid_token "token type not accepted". Absent: typ is not checked.',
  minLength: 1,
  maxLength: 128,
  pattern: '^[A-Za-z0-9!#$&^_.+-]+(/[A-Za-z0-9!#$&^_.+-]+)?$',
  errorMessage: 'must be a media type such as at+jwt or application/at+jwt',
};

export const INTROSPECTION_SCHEMA = {
  type: 'object',
  description:
    'RFC 7662 token introspection: tokens that are not JWTs (or every token of this provider, with tokens: all) are POSTed to the endpoint; active: false → 401 invalid_token, active: true → the response members are the claims. ' +
    'Endpoint down or slower than timeoutMs → 503 with Retry-After. See docs/auth.md.',
  additionalProperties: false,
  required: ['clientId', 'clientSecret'],
  properties: {
    endpoint: {
      type: 'string',
      description: 'http(s) URL of the introspection endpoint. Absent: the `introspection_endpoint` of the discovery document (needs discovery: true).',
      minLength: 1,
      maxLength: 2048,
      pattern: '^[Hh][Tt][Tt][Pp][Ss]?://',
      errorMessage: 'must be an http(s) URL',
    },
    clientId: { type: 'string', description: 'Client id the gateway authenticates to the endpoint with (RFC 6749 §2.3.1).', minLength: 1, maxLength: 1024 },
    clientSecret: { type: 'string', description: 'Client secret of clientId. Prefer ${ENV} interpolation to writing it in the file. Never logged.', minLength: 1, maxLength: 4096 },
    authMethod: {
      type: 'string',
      description: 'How the client authenticates: client_secret_basic (HTTP Basic) or client_secret_post (form members). Default: client_secret_basic.',
      enum: ['client_secret_basic', 'client_secret_post'],
      default: INTROSPECTION_DEFAULTS.authMethod,
    },
    tokens: {
      type: 'string',
      description: 'Which tokens are introspected: opaque (tokens that are not JWTs; JWTs are verified locally) or all (JWTs whose iss names this provider too, so revocation is seen). Default: opaque.',
      enum: ['opaque', 'all'],
      default: INTROSPECTION_DEFAULTS.tokens,
    },
    timeoutMs: integer('Deadline of one introspection call, connect to last byte, in milliseconds; past it the request gets 503.', 100, 30000, INTROSPECTION_DEFAULTS.timeoutMs),
    maxEntries: integer('Most introspection answers cached, keyed by a SHA-256 of the token (least recently used evicted). 0 disables the cache.', 0, 1000000, INTROSPECTION_DEFAULTS.maxEntries),
    maxTtlSec: integer('Longest an active answer is cached, in seconds, even when the token lives longer: a revoked token passes at most this long.', 1, 3600, INTROSPECTION_DEFAULTS.maxTtlSec),
    negativeTtlSec: integer('How long an inactive answer is cached, in seconds.', 0, 300, INTROSPECTION_DEFAULTS.negativeTtlSec),
  },
};

/**
 * `auth.certificateBound` (RFC 8705 §3, issue 20; auth/cert-bound.ts, docs/mtls-bound-tokens.md).
 * Tokens carrying cnf["x5t#S256"] are always checked; these keys say where a proxy's statement of
 * the client certificate is read and whether unbound tokens are refused.
 */
export const CERTIFICATE_BOUND_SCHEMA = {
  type: 'object',
  description:
    'RFC 8705 certificate-bound tokens. A token whose cnf carries x5t#S256 always needs the client certificate with that SHA-256 thumbprint: the verified certificate of the TLS connection (edge shape, listeners.https.clientCa), or the one a trusted proxy forwards in forwardedCertHeader. ' +
    'Missing or other certificate → 401 invalid_token. Tokens without cnf are unaffected unless required. Absent: only the connection\'s certificate, required false.',
  additionalProperties: false,
  properties: {
    required: {
      type: 'boolean',
      description: 'Refuse every token that is not certificate-bound (no cnf["x5t#S256"]): 401 invalid_token. Default: false.',
      default: false,
    },
    forwardedCertHeader: {
      ...headerName(
        'Request header in which a TLS-terminating proxy inside server.trustedProxies forwards the client certificate: x-forwarded-client-cert (Envoy), ssl-client-cert (NGINX $ssl_client_escaped_cert), … ' +
        'Believed only from trusted peers; from others it is ignored. Never forwarded to an upstream. Absent: only the connection\'s own certificate counts.',
      ),
    },
    forwardedCertFormat: {
      type: 'string',
      description:
        'How forwardedCertHeader spells the certificate: xfcc (Envoy X-Forwarded-Client-Cert: Cert="<url-encoded PEM>", or Hash=<hex SHA-256> alone; one element only), escaped-pem (URL-encoded PEM: NGINX $ssl_client_escaped_cert) or der-base64 (HAProxy ssl_c_der,base64). ' +
        'Default: xfcc when the header is x-forwarded-client-cert, else escaped-pem.',
      enum: ['xfcc', 'escaped-pem', 'der-base64'],
    },
  },
};

/** JWS algorithms a provider may accept. 'none' is deliberately absent (PRODUCT §3). */
export const JWS_ALGORITHMS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512',
] as const;
/** Defaults of the `auth` tuning keys; src/auth/compile.ts applies them too when `auth` is absent. */
export const AUTH_DEFAULTS = Object.freeze({
  maxTokenBytes: 8192,
  tokenCache: Object.freeze({ maxEntries: 10000, maxTtlSec: 300 }),
  // Opt-in (issue 14, PRODUCT §8): on by default it locked out every user behind one address.
  bruteForce: Object.freeze({ maxFailures: 0, windowSec: 60, blockSec: 300 }),
});

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
    requireTyp: REQUIRE_TYP_SCHEMA,
    introspection: INTROSPECTION_SCHEMA,
    dpop: DPOP_MODE_SCHEMA,
  },
};

/** Top-level `auth`: the providers and the token tuning keys. */
export const AUTH_SCHEMA = {
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
      description: 'Brute-force brake, off by default: a client address (IPv6: its /64) presenting more than maxFailures forged-looking tokens (bad signature, unparseable, unknown key, inactive) within windowSec gets 429 with Retry-After instead of 401 for such tokens during blockSec. A token that verifies is never refused; expired and not-yet-valid tokens neither count nor get 429. Counted in Redis (shared by all instances) when `redis` is configured, in memory otherwise and while Redis is unreachable. Default: {} (off).',
      additionalProperties: false,
      default: {},
      properties: {
        maxFailures: integer('Forged-looking tokens allowed per window and address. 0 (the default) disables the brake.', 0, 1000000, AUTH_DEFAULTS.bruteForce.maxFailures),
        windowSec: integer('Length of the counting window, in seconds.', 1, 86400, AUTH_DEFAULTS.bruteForce.windowSec),
        blockSec: integer('How long a client stays blocked, in seconds.', 1, 86400, AUTH_DEFAULTS.bruteForce.blockSec),
      },
    },
    dpop: DPOP_SCHEMA,
    certificateBound: CERTIFICATE_BOUND_SCHEMA,
  },
};

export { DPOP_MODE_SCHEMA, DPOP_SCHEMA } from './dpop/schema.js';
export type { DpopConfig, DpopMode } from './dpop/schema.js';
