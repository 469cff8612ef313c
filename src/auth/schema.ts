/**
 * Config schema fragments of the provider keys added in issue 14 (PRODUCT §8, normative
 * names): `requireTyp` (RFC 9068) and `introspection` (RFC 7662), owned here and spliced into
 * config/schema.ts's provider, as ratelimit/schema.ts's fragments are. The descriptions are the
 * config reference; docs/auth.md tells the longer story.
 */

const integer = (description: string, minimum: number, maximum: number, dflt: number) => ({
  type: 'integer',
  description: `${description} Default: ${dflt}.`,
  minimum,
  maximum,
  default: dflt,
});

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
