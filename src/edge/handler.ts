/**
 * The edge shape's request entry (PRODUCT §1): request id, client address and
 * path normalisation (createExchange); routing and the route's stages are the
 * decision both shapes share (pipeline/decide.ts); forwarding is this shape's
 * terminal step. Every step that can deny answers through Exchange.respond,
 * and the exchange records itself when the response closes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Respond } from '../contract/types.js';
import type { CompiledRoute } from '../route/compiled-route.js';
import { decide, recordInternalError, type Terminal } from '../pipeline/decide.js';
import { NO_ROUTE } from '../contract/respond.js';
import type { RequestCtx } from '../pipeline/context.js';
import { createExchange } from '../pipeline/create-exchange.js';
import { hasBody, type Exchange } from '../pipeline/exchange.js';
import { followsFramingRefusal } from '../pipeline/framing.js';
import type { GatewayHolder } from '../pipeline/gateway.js';
import { buildUpstreamHeaders } from '../proxy/headers.js';
import { UpstreamCall } from '../proxy/forward.js';
import { BodyLimit } from '../proxy/body-limit.js';
import { RequestBody } from '../proxy/request-body.js';
import { BodyWatch } from './body-watch.js';

const TOO_LARGE: Respond = Object.freeze({ kind: 'respond', status: 413, decision: 'bad_request', error: 'payload_too_large' });
/** server.limits.maxInFlightPerClient reached: a 429 says "later", and PRODUCT §1.9 gives every 429 a Retry-After. */
const TOO_MANY_IN_FLIGHT: Respond = Object.freeze({
  kind: 'respond', status: 429, decision: 'rate_limited', error: 'too_many_in_flight', headers: Object.freeze({ 'retry-after': '1' }),
});

export class EdgeHandler {
  readonly #holder: GatewayHolder;
  readonly #proto: string;
  /** This listener's bodies in transit: the HTTP/2 deadline and the minimum rate (body-watch.ts). */
  readonly #bodies = new BodyWatch();

  constructor(holder: GatewayHolder, proto: 'http' | 'https') {
    this.#holder = holder;
    this.#proto = proto;
  }

  /** The node:http 'request' listener. */
  readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (followsFramingRefusal(req)) return; // pipeline/framing.ts: the connection closes after that 400
    const gateway = this.#holder.current;
    gateway.acquire();
    if (this.#holder.shuttingDown) res.shouldKeepAlive = false;
    const x = createExchange(req, res, gateway, this.#proto);
    // The sign-in endpoints are the gateway's own, on every host, before any route (session/endpoints.ts).
    if (gateway.signIn !== null && x.targetOk && gateway.signIn.owns(x.ctx.path)) return gateway.signIn.serve(x);
    if (hasBody(req)) this.#bodies.watch(x);
    decide(x, FORWARD);
  };

  /** A request whose client was gone before it started (an HTTP/2 stream reset on arrival): logged as a 499, nothing run. */
  onGone(req: IncomingMessage, res: ServerResponse): void {
    const gateway = this.#holder.current;
    gateway.acquire();
    createExchange(req, res, gateway, this.#proto).record();
  }
}

/** The edge's ends of the shared decision (pipeline/decide.ts): forward what the stages allowed. */
class ForwardToUpstream implements Terminal {
  admit(x: Exchange, route: CompiledRoute): Respond | null {
    // A route without `upstream` serves the forward-auth shape only: to the edge it is no route,
    // answered before any stage so no token is checked and no bucket spent for it.
    if (!route.forwards) return NO_ROUTE;
    // Inert until a stage reads it (the WAF's body inspection); forwarding then sends prefix + rest.
    if (hasBody(x.req)) x.ctx.body = new RequestBody(x.req, x.gateway.limits.maxBodyBytes);
    return null;
  }

  allow(x: Exchange, route: CompiledRoute): void {
    const req = x.req;
    // One client must not hold a route's whole pool (issue 22); released when the exchange is recorded.
    const maxInFlight = x.gateway.limits.maxInFlightPerClient;
    if (maxInFlight > 0) {
      if (!x.gateway.clientInFlight.tryAcquire(x.ctx.clientIp, maxInFlight)) return x.respond(TOO_MANY_IN_FLIGHT);
      x.inFlightCounted = true;
    }
    let body: Readable | Buffer | null = null;
    if (hasBody(req)) {
      const declared = req.headers['content-length'];
      if (declared !== undefined && req.headers['transfer-encoding'] === undefined) {
        if (Number(declared) > x.gateway.limits.maxBodyBytes) return x.respond(TOO_LARGE, true);
        body = forwardedBody(x.ctx.body, req);
      } else {
        const source = forwardedBody(x.ctx.body, req);
        if (Buffer.isBuffer(source)) {
          // A stage read the whole chunked body: its length is known now.
          if (source.length > x.gateway.limits.maxBodyBytes) return x.respond(TOO_LARGE, true);
          body = source;
          x.bodyCounter = { bytes: source.length };
        } else {
          const limit = new BodyLimit(x.gateway.limits.maxBodyBytes);
          source.on('error', (err) => limit.destroy(err));
          body = source.pipe(limit);
          x.bodyCounter = limit;
        }
      }
    }
    const headers = buildUpstreamHeaders(req.rawHeaders, x.ctx, route, x.gateway.injectable, x);
    new UpstreamCall(x, route, headers, body).start();
  }

  deny(x: Exchange, r: Respond): void {
    x.respond(r);
  }

  fail(x: Exchange, err: unknown): void {
    x.respond(recordInternalError(x, err), true);
  }
}

/** One for the process: it holds no state, so the edge allocates nothing to use it. */
const FORWARD = new ForwardToUpstream();

/**
 * The request itself; or, when a stage read a prefix of it, that prefix followed by the rest —
 * a plain Buffer when the stage read it all (cheaper for undici than any stream).
 */
function forwardedBody(body: RequestCtx['body'], req: IncomingMessage): Readable | Buffer {
  return body instanceof RequestBody ? body.forwardBody() : req;
}
