/**
 * The one decision every request gets, in both shapes (PRODUCT §1.5–§1.10): route match, then
 * the route's own stages — network policy, authentication, authorisation, rate limit, WAF, and
 * any stage added to a route's list later — through the one runner (run.ts), then a verdict.
 * Only the two ends differ, and a Terminal supplies them: the edge forwards to the upstream
 * (edge/handler.ts), the auth listener answers 200 in its caller's form (forward-auth/call.ts).
 * STYLE §2, as Caddy's forward_auth is reverse_proxy configured differently: adapters and a
 * terminal step, never a second pipeline.
 *
 * Hot path: a Terminal is an object with methods — a module singleton at the edge, the
 * per-request ForwardAuthCall in forward-auth — so the synchronous path allocates nothing here;
 * only a stage that awaited I/O costs the two callbacks of `then`, as before.
 */
import type { CompiledRoute } from '../route/compiled-route.js';
import type { Exchange } from './exchange.js';
import type { RequestCtx } from './context.js';
import type { Gateway } from './gateway.js';
import { BAD_REQUEST, INTERNAL_ERROR, NO_ROUTE } from '../contract/respond.js';
import { runStages } from './run.js';
import type { Respond } from '../contract/types.js';

/**
 * What decide() reads of an exchange: the Exchange of a node:http request (both shapes), or
 * another caller's own record of one decision (forward-auth/grpc: an Envoy Check call has no
 * node:http request or response).
 */
export interface Decidable {
  readonly ctx: RequestCtx;
  readonly gateway: Gateway;
  /** Whether the request-target normalised; a bad one is denied 400. */
  readonly targetOk: boolean;
  route: CompiledRoute | null;
  /** The caller went away (response destroyed, call cancelled): an allow has no one to go to. */
  readonly gone: boolean;
}

/** The shape's own ends of the decision. Methods, not callbacks: see the file comment. */
export interface Terminal<X extends Decidable = Exchange> {
  /**
   * A route matched: the shape's answer before any stage runs (the edge's 404 for a route
   * without an upstream), or null to run the stages. Also where the edge makes the body readable.
   */
  admit(x: X, route: CompiledRoute): Respond | null;
  /** Every stage continued: forward, or answer the forward-auth allow. */
  allow(x: X, route: CompiledRoute): void;
  /** A bad target, no route, admit's answer or a stage's denial. */
  deny(x: X, r: Respond): void;
  /** A stage threw or rejected: a bug, answered 500 (see failInternally). */
  fail(x: X, err: unknown): void;
}

/** Decides `x` and hands the outcome to `end`; never throws (a throw is end.fail). */
export function decide<X extends Decidable>(x: X, end: Terminal<X>): void {
  try {
    if (!x.targetOk) return end.deny(x, BAD_REQUEST);
    const ctx = x.ctx;
    const route = x.gateway.routes.match(ctx.host, ctx.method, ctx.path);
    if (route === null) return end.deny(x, NO_ROUTE);
    x.route = route;
    ctx.route = route;
    const early = end.admit(x, route);
    if (early !== null) return end.deny(x, early);
    const verdict = runStages(route.stages, ctx);
    if (verdict instanceof Promise) {
      verdict.then((v) => settle(x, end, route, v), (err: unknown) => end.fail(x, err));
      return;
    }
    settle(x, end, route, verdict);
  } catch (err) {
    end.fail(x, err);
  }
}

/** After the stages, now or once a stage's I/O is done; a throw here must not become an unhandled rejection. */
function settle<X extends Decidable>(x: X, end: Terminal<X>, route: CompiledRoute, verdict: Respond | null): void {
  try {
    if (verdict !== null) end.deny(x, verdict);
    else if (!x.gone) end.allow(x, route); // the client left while a stage was waiting: nothing to do
  } catch (err) {
    end.fail(x, err);
  }
}

/**
 * The common part of Terminal.fail: log the error with its cause under the request id, count
 * it by shape, and drop the headers a stage had added (a 500 carries none of them). The caller
 * then sends INTERNAL_ERROR in its own form.
 */
export function recordInternalError(x: Pick<Decidable, 'ctx' | 'gateway'>, err: unknown): Respond {
  x.gateway.metrics.internalErrorsTotal.labels(x.ctx.shape).inc();
  x.gateway.logger.error({ requestId: x.ctx.id, shape: x.ctx.shape, err }, 'internal error in the request pipeline');
  x.ctx.responseHeaders = null;
  return INTERNAL_ERROR;
}
