/**
 * Deny-by-default for routes that need a token while no provider can verify
 * one: every request is answered 401 per RFC 6750 §3. The real verifier
 * (issue 3) replaces this stage; the route table stays the same.
 */
import type { RequestContext, Respond, Stage, Verdict } from '../pipeline/types.js';

export class RequireTokenStage implements Stage {
  readonly name = 'auth';
  readonly #missing: Respond;
  readonly #invalid: Respond;

  constructor(realm: string) {
    this.#missing = Object.freeze({
      kind: 'respond', status: 401, decision: 'unauthenticated', error: 'unauthorized',
      headers: Object.freeze({ 'www-authenticate': `Bearer realm="${realm}"` }),
    });
    this.#invalid = Object.freeze({
      kind: 'respond', status: 401, decision: 'unauthenticated', error: 'invalid_token',
      headers: Object.freeze({
        'www-authenticate': `Bearer realm="${realm}", error="invalid_token", error_description="no provider can verify this token"`,
      }),
    });
  }

  handle(ctx: RequestContext): Verdict {
    return ctx.headers.authorization === undefined ? this.#missing : this.#invalid;
  }
}
