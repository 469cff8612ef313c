/**
 * Why a token was refused, and the answers that say so (RFC 6750 §3).
 *
 * Every reason is a label of `portcullis_auth_failures_total{provider,reason}`
 * (PRODUCT §6) and maps to one fixed, short `error_description`: a
 * description never echoes anything from the token (PRODUCT §1), so all the
 * Respond objects are built once per config and shared by every request.
 */
import type { Respond } from '../contract/types.js';
import type { DpopFailureReason } from './dpop/reasons.js';

/** 401 reasons: the token could not establish an identity. */
export type InvalidTokenReason =
  | 'malformed'
  | 'multiple_tokens'
  | 'header_not_allowed'
  | 'alg_not_allowed'
  | 'wrong_issuer'
  | 'provider_not_allowed'
  | 'unknown_kid'
  | 'bad_signature'
  | 'missing_exp'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_audience'
  | 'wrong_typ'
  | 'inactive';

/** 403 reasons: a valid token that this route does not accept (PRODUCT §1.8). */
export type ForbiddenReason = 'insufficient_scope' | 'missing_role' | 'claim_mismatch';

/**
 * Every failure label: plus `missing` (no token), `keys_unavailable` and `introspection_unavailable`
 * (503), `blocked` (429, brute-force brake) and `ambiguous_cookie` (400: a token cookie named
 * twice or by an alias), and the DPoP reasons (dpop/reasons.ts).
 */
export type AuthFailureReason = InvalidTokenReason | ForbiddenReason | 'missing' | 'keys_unavailable' | 'introspection_unavailable' | 'blocked' | 'ambiguous_cookie' | DpopFailureReason;

/**
 * RFC 6750 §3: error_description is human-readable ASCII without `"` or `\`.
 * These say which rule failed, never what the token contained.
 */
export const INVALID_TOKEN_DESCRIPTIONS: Readonly<Record<InvalidTokenReason, string>> = {
  malformed: 'malformed token',
  multiple_tokens: 'more than one token in the request',
  header_not_allowed: 'token header parameter not accepted',
  alg_not_allowed: 'signing algorithm not accepted',
  wrong_issuer: 'unknown issuer',
  provider_not_allowed: 'issuer not accepted on this route',
  unknown_kid: 'unknown signing key',
  bad_signature: 'invalid signature',
  missing_exp: 'token has no expiry',
  expired: 'token expired',
  not_yet_valid: 'token not yet valid',
  wrong_audience: 'token audience not accepted',
  wrong_typ: 'token type not accepted',
  inactive: 'token not active',
};

const FORBIDDEN_DESCRIPTIONS: Readonly<Record<ForbiddenReason, string>> = {
  insufficient_scope: 'required scope missing',
  missing_role: 'required role missing',
  claim_mismatch: 'required claim missing or different',
};

/** How long a client is told to wait when the signing keys are not loaded yet, in seconds. */
const KEYS_UNAVAILABLE_RETRY_AFTER_SEC = '5';

/** The frozen answers of the auth stages for one realm, built once per config. */
export class AuthResponses {
  /** RFC 6750 §3.1: a request without a token gets a bare challenge, no error attribute. */
  readonly missing: Respond;
  /**
   * The provider's keys never loaded (IdP unreachable since start), or its introspection endpoint
   * is down or slow: a server-side problem, so 503 rather than a 401 that would make clients throw
   * away a good token. Fail closed either way.
   */
  readonly unavailable: Respond;
  /**
   * The Cookie headers name a token cookie twice or by an alias (token-source.ts): a malformed
   * request, not a bad token — 400 `bad_request`, no challenge, and no brute-force count.
   */
  readonly ambiguousCookie: Respond;
  readonly #realm: string;
  readonly #invalid: ReadonlyMap<InvalidTokenReason, Respond>;

  constructor(realm: string) {
    this.#realm = realm;
    this.missing = freeze(401, 'unauthenticated', 'unauthorized', { 'www-authenticate': `Bearer realm="${realm}"` });
    this.unavailable = freeze(503, 'unauthenticated', 'unavailable', { 'retry-after': KEYS_UNAVAILABLE_RETRY_AFTER_SEC });
    this.ambiguousCookie = freeze(400, 'bad_request', 'bad_request', {});
    const invalid = new Map<InvalidTokenReason, Respond>();
    for (const [reason, description] of Object.entries(INVALID_TOKEN_DESCRIPTIONS) as [InvalidTokenReason, string][]) {
      invalid.set(reason, freeze(401, 'unauthenticated', 'invalid_token', {
        'www-authenticate': `Bearer realm="${realm}", error="invalid_token", error_description="${description}"`,
      }));
    }
    this.#invalid = invalid;
  }

  invalid(reason: InvalidTokenReason): Respond {
    return this.#invalid.get(reason)!;
  }

  /**
   * RFC 6750 §3.1 insufficient_scope, built per route at compile time. `scope` lists the
   * scopes the route requires (§3: space-delimited), when it requires any.
   */
  forbidden(reason: ForbiddenReason, requiredScopes: readonly string[]): Respond {
    const scope = requiredScopes.length > 0 ? `, scope="${requiredScopes.join(' ')}"` : '';
    return freeze(403, 'forbidden', 'insufficient_scope', {
      'www-authenticate': `Bearer realm="${this.#realm}", error="insufficient_scope", error_description="${FORBIDDEN_DESCRIPTIONS[reason]}"${scope}`,
    });
  }

  /** 429 from the brute-force brake; Retry-After (RFC 9110 §10.2.3) is the rest of the block. */
  blocked(retryAfterSec: number): Respond {
    return freeze(429, 'rate_limited', 'rate_limited', { 'retry-after': String(retryAfterSec) });
  }
}

function freeze(status: number, decision: Respond['decision'], error: string, headers: Record<string, string>): Respond {
  return Object.freeze({ kind: 'respond', status, decision, error, headers: Object.freeze(headers) });
}
