/**
 * The config schema fragments of browser sign-in (PRODUCT §8: per provider `client`, top-level
 * `sessions`, route `auth.login`), owned here and spliced into config/schema.ts as Envoy's
 * per-filter protos are. The descriptions are the config reference; docs/sign-in.md tells the
 * longer story.
 */

export const SESSION_DEFAULTS = Object.freeze({
  cookieName: 'portcullis_session',
  ttlSec: 8 * 60 * 60,
  idleTtlSec: 60 * 60,
  store: 'cookie' as const,
  pathPrefix: '/.portcullis',
  refreshBeforeSec: 60,
});

/** RFC 6265 §4.1.1 cookie-name: an RFC 7230 token. */
const COOKIE_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$";
/** Lowercase LDH host names, optionally after a leading `*.` (RFC 1123 §2.1). */
const HOST_PATTERN = '^(\\*\\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$';

const absoluteUrl = (description: string) => ({
  type: 'string',
  description,
  pattern: '^https?://[^\\s]+$',
  maxLength: 2048,
  errorMessage: 'must be an absolute http(s) URL',
});

/** `auth.providers[].client`: the gateway as an OpenID Connect relying party of this provider. */
export const PROVIDER_CLIENT_SCHEMA = {
  type: 'object',
  description:
    'Browser sign-in with this provider (OpenID Connect authorization code flow with PKCE S256). The endpoints come from {issuer}/.well-known/openid-configuration. Needs top-level `sessions`; routes opt in with auth.login. See docs/sign-in.md.',
  additionalProperties: false,
  required: ['id', 'secret', 'redirectUri'],
  properties: {
    id: { type: 'string', description: 'The client_id registered at the provider; the ID token `aud` must contain it.', minLength: 1, maxLength: 256 },
    secret: { type: 'string', description: 'The client secret (client_secret_basic, or client_secret_post when the provider supports only that). Prefer ${ENV} interpolation.', minLength: 1, maxLength: 1024 },
    redirectUri: absoluteUrl('The callback URL registered at the provider: the sign-in path prefix + /callback on a host that reaches the gateway, e.g. https://app.example.com/.portcullis/callback.'),
    scopes: {
      type: 'array',
      description: 'Scopes asked for; openid is required. Add offline_access where the provider needs it to issue a refresh token. Default: [openid, profile, email].',
      items: { type: 'string', description: 'A scope (RFC 6749 §3.3 scope-token).', pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e]+$', errorMessage: 'must be a scope token (no spaces, quotes or backslashes)' },
      minItems: 1,
      maxItems: 32,
      uniqueItems: true,
      default: ['openid', 'profile', 'email'],
    },
    usePkce: {
      type: 'boolean',
      description: 'PKCE (RFC 7636, S256) is always used: true is the only accepted value, kept so configs written for other proxies load. Default: true.',
      enum: [true],
      errorMessage: 'PKCE cannot be turned off: remove usePkce or set it to true',
      default: true,
    },
    tokenEndpointAuthMethod: {
      type: 'string',
      description: 'How the client authenticates at the token endpoint. Absent: client_secret_basic unless the discovery document lists only client_secret_post.',
      enum: ['client_secret_basic', 'client_secret_post'],
    },
    postLogoutRedirectUri: absoluteUrl('Where the provider sends the browser after sign-out through its end_session_endpoint (must be registered there). Absent: the provider shows its own page.'),
  },
};

/** Top-level `sessions`. */
export const SESSIONS_SCHEMA = {
  type: 'object',
  description: 'Browser sessions created by sign-in (routes with auth.login). See docs/sign-in.md.',
  additionalProperties: false,
  required: ['secrets'],
  properties: {
    secrets: {
      type: 'array',
      description: 'Session encryption secrets, at least 32 characters each: the first encrypts, every one decrypts (rotation: put the new secret first, drop the old one after ttlSec). Prefer ${ENV} interpolation.',
      items: { type: 'string', description: 'A secret of at least 32 characters.', minLength: 32, maxLength: 4096 },
      minItems: 1,
      maxItems: 8,
      uniqueItems: true,
    },
    cookieName: {
      type: 'string',
      description: `Session cookie name. Over HTTPS without cookieDomain it is sent as __Host-<name> (RFC 6265bis §4.1.3). Default: ${SESSION_DEFAULTS.cookieName}.`,
      pattern: COOKIE_NAME_PATTERN,
      errorMessage: 'must be a cookie name of 1-64 RFC 6265 token characters',
      default: SESSION_DEFAULTS.cookieName,
    },
    cookieDomain: {
      type: 'string',
      description: 'Domain attribute of the session cookie, to share one session between sub-domains (example.com). Absent: host-only cookie with the __Host- prefix.',
      pattern: HOST_PATTERN.replace('(\\*\\.)?', ''),
      maxLength: 253,
      errorMessage: 'must be a lowercase host name',
    },
    ttlSec: {
      type: 'integer',
      description: `Longest a session lives after sign-in, in seconds, refreshes included. Default: ${SESSION_DEFAULTS.ttlSec}.`,
      minimum: 60,
      maximum: 30 * 24 * 60 * 60,
      default: SESSION_DEFAULTS.ttlSec,
    },
    idleTtlSec: {
      type: 'integer',
      description: `A session unused for this long ends, in seconds (at most ttlSec). Default: ${SESSION_DEFAULTS.idleTtlSec}.`,
      minimum: 60,
      maximum: 30 * 24 * 60 * 60,
      default: SESSION_DEFAULTS.idleTtlSec,
    },
    store: {
      type: 'string',
      description: 'cookie: the session, encrypted (JWE dir + A256GCM), lives in the cookie. redis: the cookie holds an opaque random id and the session lives in `redis` (revocable, survives restarts). Default: cookie.',
      enum: ['cookie', 'redis'],
      default: SESSION_DEFAULTS.store,
    },
    allowedRedirectHosts: {
      type: 'array',
      description: 'Hosts (or *.wildcards) that sign-in and sign-out may redirect to with an absolute rd, besides the host the request came to. Default: [].',
      items: { type: 'string', description: 'A lowercase host name or *.wildcard.', pattern: HOST_PATTERN, maxLength: 253, errorMessage: 'must be a lowercase host name or *.wildcard' },
      maxItems: 256,
      uniqueItems: true,
      default: [],
    },
    pathPrefix: {
      type: 'string',
      description: `Path prefix of the sign-in endpoints (<prefix>/sign-in, /callback, /sign-out) on every host, edge and auth listener. Default: ${SESSION_DEFAULTS.pathPrefix}.`,
      pattern: '^/[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$',
      maxLength: 128,
      errorMessage: 'must be a path such as /.portcullis (no trailing slash)',
      default: SESSION_DEFAULTS.pathPrefix,
    },
    refreshBeforeSec: {
      type: 'integer',
      description: `Tokens are refreshed with the refresh token this many seconds before the access token expires. Default: ${SESSION_DEFAULTS.refreshBeforeSec}.`,
      minimum: 0,
      maximum: 3600,
      default: SESSION_DEFAULTS.refreshBeforeSec,
    },
  },
};

/** `routes[].auth.login`. */
export const ROUTE_LOGIN_SCHEMA = {
  type: 'string',
  description: 'Sign browsers in with this provider (it needs `client`): a browser without a session is redirected to sign in (302); an API request (Accept JSON, XHR, a token present) gets 401 as without login. Needs top-level `sessions`.',
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
  errorMessage: 'must be a provider name',
};

export interface ProviderClientConfig {
  id: string;
  secret: string;
  redirectUri: string;
  scopes: string[];
  usePkce: true;
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  postLogoutRedirectUri?: string;
}

export interface SessionsConfig {
  secrets: string[];
  cookieName: string;
  cookieDomain?: string;
  ttlSec: number;
  idleTtlSec: number;
  store: 'cookie' | 'redis';
  allowedRedirectHosts: string[];
  pathPrefix: string;
  refreshBeforeSec: number;
}
