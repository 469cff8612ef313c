/**
 * The `authorise` stage (PRODUCT §1.8): the verified identity must carry
 * every required scope, at least one of the required roles, and every
 * required claim value — else 403 with RFC 6750 §3.1 `insufficient_scope`.
 * Only routes that ask for something get this stage; it runs on cache hits
 * too, since the cache holds identities, not per-route decisions.
 */
import { CONTINUE, type RequestContext, type Respond, type Stage, type Verdict } from '../contract/types.js';
import type { RouteAuthConfig } from '../config/types.js';
import { compileClaimPath, readClaim, type ClaimPath } from '../contract/claims.js';
import { VerifiedIdentity } from './identity.js';
import type { FailureCounter } from './authenticate.js';
import type { AuthResponses } from './responses.js';

interface ClaimRule {
  readonly path: ClaimPath;
  readonly value: string | number | boolean;
}

export class AuthoriseStage implements Stage {
  readonly name = 'authorise';
  readonly #scopes: readonly string[];
  readonly #roles: readonly string[];
  readonly #claims: readonly ClaimRule[];
  readonly #failures: FailureCounter;
  readonly #noScope: Respond;
  readonly #noRole: Respond;
  readonly #badClaim: Respond;

  constructor(cfg: RouteAuthConfig, responses: AuthResponses, failures: FailureCounter) {
    this.#scopes = Object.freeze([...(cfg.scopes ?? [])]);
    this.#roles = Object.freeze([...(cfg.roles ?? [])]);
    this.#claims = Object.freeze(Object.entries(cfg.claims ?? {}).map(([path, value]) => Object.freeze({ path: compileClaimPath(path), value })));
    this.#failures = failures;
    this.#noScope = responses.forbidden('insufficient_scope', this.#scopes);
    this.#noRole = responses.forbidden('missing_role', this.#scopes);
    this.#badClaim = responses.forbidden('claim_mismatch', this.#scopes);
  }

  /** Whether a route config asks for anything this stage checks. */
  static needed(cfg: RouteAuthConfig): boolean {
    return (cfg.scopes?.length ?? 0) > 0 || (cfg.roles?.length ?? 0) > 0 || Object.keys(cfg.claims ?? {}).length > 0;
  }

  handle(ctx: RequestContext): Verdict {
    const id = ctx.identity;
    // The auth stage always runs first; anything else here is a broken invariant, denied.
    if (!(id instanceof VerifiedIdentity)) return this.#deny('', 'insufficient_scope', this.#noScope);
    for (const scope of this.#scopes) if (!id.scopes.has(scope)) return this.#deny(id.provider, 'insufficient_scope', this.#noScope);
    if (this.#roles.length > 0 && !this.#hasAnyRole(id)) return this.#deny(id.provider, 'missing_role', this.#noRole);
    for (const rule of this.#claims) {
      if (!claimMatches(readClaim(id.claims, rule.path), rule.value)) return this.#deny(id.provider, 'claim_mismatch', this.#badClaim);
    }
    return CONTINUE;
  }

  #hasAnyRole(id: VerifiedIdentity): boolean {
    for (const role of this.#roles) if (id.roles.has(role)) return true;
    return false;
  }

  #deny(provider: string, reason: 'insufficient_scope' | 'missing_role' | 'claim_mismatch', r: Respond): Respond {
    this.#failures.count(provider, reason);
    return r;
  }
}

/** Equality, or membership when the claim is an array (`groups: [a, b]` matches `groups: a`). Types must agree. */
function claimMatches(actual: unknown, expected: string | number | boolean): boolean {
  if (Array.isArray(actual)) return actual.includes(expected);
  return actual === expected;
}
