/**
 * The auth stage of a route with `auth.login` (wrapping the route's ordinary token stage, which
 * authorise, rate limit and identity headers follow unchanged):
 * - a request with a token is decided by the token, as on any route (API clients keep working);
 * - else a valid session sets ctx.identity from its claims (sign-in.ts resume);
 * - else a browser navigation gets 302 to `<prefix>/sign-in?rd=<this path>` (the forward-auth
 *   adapters turn it into their callers' forms), and anything else the token stage's 401.
 */
import { CONTINUE, type RequestContext, type Respond, type Stage, type Verdict } from '../contract/types.js';
import type { TokenSources } from '../auth/token-source.js';
import { isBrowserNavigation } from './browser.js';
import type { LoginProvider } from './login-provider.js';
import type { SignIn } from './sign-in.js';

/** The decision of the redirect: the request was not authenticated. */
export function signInRedirect(location: string): Respond {
  return { kind: 'respond', status: 302, decision: 'unauthenticated', error: 'sign_in_required', headers: { location } };
}

export class SessionStage implements Stage {
  readonly name = 'auth';
  readonly #s: SignIn;
  readonly #login: LoginProvider;
  readonly #token: Stage;
  readonly #sources: TokenSources;

  constructor(s: SignIn, login: LoginProvider, token: Stage, sources: TokenSources) {
    this.#s = s;
    this.#login = login;
    this.#token = token;
    this.#sources = sources;
  }

  handle(ctx: RequestContext): Verdict | Promise<Verdict> {
    if (this.#sources.extract(ctx.headers) !== null) return this.#token.handle(ctx);
    if (this.#s.cookieValue(ctx) === null) return this.#without(ctx);
    return this.#withCookie(ctx);
  }

  async #withCookie(ctx: RequestContext): Promise<Verdict> {
    const identity = await this.#s.resume(ctx, this.#login);
    if (identity === null) return this.#without(ctx);
    ctx.identity = identity;
    return CONTINUE;
  }

  #without(ctx: RequestContext): Verdict | Promise<Verdict> {
    if (isBrowserNavigation(ctx.method, ctx.headers)) return signInRedirect(this.#s.signInLocation(ctx, this.#login));
    return this.#token.handle(ctx);
  }
}
