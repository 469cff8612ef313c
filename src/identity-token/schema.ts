/**
 * Config schema fragments of the signed identity token (issue 20 item 3, PRODUCT §8): the
 * top-level `identityTokens` (issuer and signing keys) and the route's `identityToken`, spliced
 * into config/schema.ts. The descriptions are the config reference; docs/identity-token.md
 * tells the longer story.
 */
import { CLAIM_PATH_MESSAGE, CLAIM_PATH_PATTERN, headerName, integer, NAME_MESSAGE, NAME_PATTERN, nonEmptyString } from '../config/schema-kit.js';

/** Defaults; identity-token/compile.ts reads them from the validated config. */
export const IDENTITY_TOKEN_DEFAULTS = Object.freeze({
  header: 'x-portcullis-identity',
  ttlSec: 60,
  claims: Object.freeze(['sub']),
  jwksMaxAgeSec: 300,
});

/** Signing algorithms: asymmetric only, so a backend needs nothing secret to verify. */
export const IDENTITY_TOKEN_ALGORITHMS = ['ES256', 'EdDSA'] as const;

/** Claims the gateway itself sets on the token: a route may not copy the caller's over them. */
export const RESERVED_IDENTITY_CLAIMS: ReadonlySet<string> = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'idp']);

const signingKey = {
  type: 'object',
  description: 'One signing key: its kid, alg and private key (PEM, PKCS#8 or SEC1), from file or pem. Every listed key is published in the JWKS; only `current` signs.',
  additionalProperties: false,
  required: ['kid', 'alg'],
  properties: {
    kid: { ...nonEmptyString('Key id, written in the token header and the JWKS.'), pattern: NAME_PATTERN, errorMessage: NAME_MESSAGE },
    alg: {
      type: 'string',
      description: 'ES256 (an EC P-256 key) or EdDSA (an Ed25519 key).',
      enum: IDENTITY_TOKEN_ALGORITHMS,
    },
    file: nonEmptyString('Path of the PEM private key (relative paths from the working directory). Read at startup and on every reload.'),
    pem: nonEmptyString('The PEM private key itself; write it as ${ENV} rather than in the file. Never logged.'),
  },
};

export const IDENTITY_TOKENS_SCHEMA = {
  type: 'object',
  description:
    'Signing keys of the identity token routes send to their upstream (routes[].identityToken). The public halves are served as a JWKS at the admin listener\'s /.well-known/jwks.json. ' +
    'Rotate by adding a key, making it current, and removing the old one once tokens it signed have expired (ttlSec) and JWKS caches have refreshed (jwksMaxAgeSec). See docs/identity-token.md.',
  additionalProperties: false,
  required: ['issuer', 'keys', 'current'],
  properties: {
    issuer: nonEmptyString('The `iss` of every identity token: a name for this gateway that backends check, such as https://gateway.example.com.'),
    keys: { type: 'array', description: 'The signing keys, current and previous.', items: signingKey, minItems: 1, maxItems: 16 },
    current: nonEmptyString('kid of the key that signs new tokens; must be one of keys.'),
    jwksMaxAgeSec: integer('Cache-Control max-age of the served JWKS, in seconds.', 0, 86400, IDENTITY_TOKEN_DEFAULTS.jwksMaxAgeSec),
  },
};

export const ROUTE_IDENTITY_TOKEN_SCHEMA = {
  type: 'object',
  description:
    'Send the upstream (or return to the forward-auth caller) a short-lived JWT signed with identityTokens.current stating the verified caller: iss (identityTokens.issuer), aud, sub, idp (the caller token\'s iss), iat, exp, jti and the listed claims. ' +
    'Incoming copies of the header are always removed. Needs top-level identityTokens. No identity (auth: none): no token.',
  additionalProperties: false,
  properties: {
    header: { ...headerName(`Request header carrying the token. Default: ${IDENTITY_TOKEN_DEFAULTS.header}.`), default: IDENTITY_TOKEN_DEFAULTS.header },
    ttlSec: integer('Lifetime of a token, in seconds (never past the caller token\'s exp). A token is reused for the same caller and route for half of it.', 5, 3600, IDENTITY_TOKEN_DEFAULTS.ttlSec),
    claims: {
      type: 'array',
      description: 'Claims of the verified identity copied into the token, by dotted path (realm_access.roles is copied as { realm_access: { roles } }); absent ones are left out. sub is always there. Default: [sub].',
      items: { ...nonEmptyString('A claim path.'), pattern: CLAIM_PATH_PATTERN, errorMessage: CLAIM_PATH_MESSAGE },
      uniqueItems: true,
      maxItems: 64,
      default: [...IDENTITY_TOKEN_DEFAULTS.claims],
    },
    audience: nonEmptyString('The token\'s `aud`. Default: the route name.'),
  },
};
