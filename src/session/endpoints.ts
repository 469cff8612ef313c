/**
 * The sign-in endpoints under `sessions.pathPrefix` (default `/.portcullis`), served on every host
 * by the edge listeners and by the auth listener (for NGINX / Traefik to proxy to), before any
 * route: they are the gateway's own, like a Kubernetes health path. A dedicated prefix that no
 * application is likely to use (a dot segment, as `/.well-known`) keeps them out of the routes'
 * way; it is configurable for the one that does.
 */
import { recordInternalError } from '../pipeline/decide.js';
import type { Exchange } from '../pipeline/exchange.js';
import { deny } from './answer.js';
import { finishSignIn } from './callback.js';
import type { SignIn } from './sign-in.js';
import { signOut } from './sign-out.js';
import { startSignIn } from './start.js';

export class SignInEndpoints {
  readonly #s: SignIn;
  readonly #signIn: string;
  readonly #callback: string;
  readonly #signOut: string;

  constructor(s: SignIn) {
    this.#s = s;
    this.#signIn = s.prefix + '/sign-in';
    this.#callback = s.prefix + '/callback';
    this.#signOut = s.prefix + '/sign-out';
  }

  /** Whether a normalised path is ours. */
  owns(path: string): boolean {
    return this.#s.owns(path);
  }

  /** Whether a raw request-target is under the prefix (the auth listener's test, before normalising). */
  ownsTarget(url: string): boolean {
    return url.startsWith(this.#s.prefix) && (url.length === this.#s.prefix.length || '/?'.includes(url.charAt(this.#s.prefix.length)));
  }

  /** Answers `x` (never throws: a bug is a logged 500, as in the pipeline). */
  serve(x: Exchange): void {
    if (!x.targetOk) return deny(x, 400, 'bad_request', 'bad_request');
    const path = x.ctx.path;
    const step = path === this.#signIn ? startSignIn : path === this.#callback ? finishSignIn : path === this.#signOut ? signOut : null;
    if (step === null) return deny(x, 404, 'no_route', 'not_found');
    step(x, this.#s).catch((err: unknown) => {
      const r = recordInternalError(x, err);
      deny(x, r.status, r.decision, r.error ?? 'internal_error');
    });
  }
}
