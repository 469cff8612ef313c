/**
 * One forward-auth decision: the adapter of the endpoint turns the caller's request into a
 * RequestCtx of shape 'forward-auth' describing the original request; then the same route table
 * and the route's own stages run through the same runner as at the edge (pipeline/run.ts); the
 * terminal step is allow.ts instead of proxy/. STYLE §2: adapters and a terminal step, never a
 * second pipeline. The Exchange records the access-log line and metrics when the response closes,
 * exactly as for the edge.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gateway } from '../pipeline/gateway.js';
import type { Respond } from '../pipeline/types.js';
import { runStages } from '../pipeline/run.js';
import type { CompiledRoute } from '../route/compiled-route.js';
import { canonicalIp } from '../server/client-ip.js';
import { RequestCtx } from '../server/context.js';
import { Exchange } from '../server/exchange.js';
import { hostOf } from '../server/host.js';
import { chooseRequestId } from '../server/request-id.js';
import { allowAnswer, forNginx, type CallerKind } from './allow.js';
import { cachePolicyOf } from './cache.js';
import { ENVOY_PREFIX, readEnvoy } from './envoy.js';
import { stageHeaders } from './headers.js';
import { NGINX_META_HEADERS, readNginx } from './nginx.js';
import { fail, pathForLog, type Caller, type Original } from './original.js';
import { TRAEFIK_META_HEADERS, readTraefik } from './traefik.js';

const BAD_REQUEST: Respond = Object.freeze({ kind: 'respond', status: 400, decision: 'bad_request', error: 'bad_request' });
const NO_ROUTE: Respond = Object.freeze({ kind: 'respond', status: 404, decision: 'no_route', error: 'not_found' });
const INTERNAL: Respond = Object.freeze({ kind: 'respond', status: 500, decision: 'upstream_error', error: 'internal_error' });

const META: Readonly<Record<CallerKind, ReadonlySet<string>>> = {
  nginx: new Set(NGINX_META_HEADERS),
  traefik: new Set(TRAEFIK_META_HEADERS),
  envoy: new Set(),
};

/** `/nginx`, `/traefik` (a query string is ignored), `/envoy/…`; null for anything else (404). */
export function endpointOf(url: string): CallerKind | null {
  if (url.startsWith(ENVOY_PREFIX + '/')) return 'envoy';
  if (url === '/nginx' || url.startsWith('/nginx?')) return 'nginx';
  if (url === '/traefik' || url.startsWith('/traefik?')) return 'traefik';
  return null;
}

function readOriginal(kind: CallerKind, c: Caller, req: IncomingMessage, url: string): Original {
  if (kind === 'nginx') return readNginx(c);
  if (kind === 'traefik') return readTraefik(c);
  return readEnvoy(c, req.method, url);
}

export class ForwardAuthCall {
  readonly x: Exchange;
  readonly #kind: CallerKind | null;
  readonly #spoofed: string[] | null;

  constructor(req: IncomingMessage, res: ServerResponse, gateway: Gateway) {
    const startNs = process.hrtime.bigint();
    const peer = canonicalIp(req.socket.remoteAddress ?? '');
    const trusted = gateway.trusted.isTrusted(peer);
    const url = req.url ?? '';
    const kind = endpointOf(url);
    const caller: Caller = { headers: req.headers, peer, trusted, trustedProxies: gateway.trusted, listenerProto: 'http' };
    const original = kind === null ? fail('unknown_endpoint', pathForLog(url)) : readOriginal(kind, caller, req, url);
    const seen = stageHeaders(req.headers, req.rawHeaders, gateway.injectable, META[kind ?? 'envoy']);
    const id = chooseRequestId(req.headers['x-request-id'], trusted);
    const ctx = original.ok
      ? new RequestCtx(id, original.clientIp, 'forward-auth', original.method, original.host, original.path, original.query, original.proto, seen.headers, startNs)
      : new RequestCtx(id, peer, 'forward-auth', req.method ?? 'GET', hostOf(req.headers.host), original.pathForLog, '', 'http', seen.headers, startNs);
    ctx.rawHeaders = seen.rawHeaders;
    this.x = new Exchange(req, res, ctx, gateway);
    this.x.peer = peer;
    this.x.peerTrusted = trusted;
    this.x.targetOk = original.ok;
    this.#kind = kind;
    this.#spoofed = seen.spoofed;
  }

  run(): void {
    try {
      this.#decide();
    } catch (err) {
      this.#internalError(err);
    }
  }

  #decide(): void {
    const x = this.x;
    if (this.#kind === null) return x.respond(NO_ROUTE);
    if (!x.targetOk) return this.#deny(BAD_REQUEST);
    const ctx = x.ctx;
    const route = x.gateway.routes.match(ctx.host, ctx.method, ctx.path);
    if (route === null) return this.#deny(NO_ROUTE);
    x.route = route;
    ctx.route = route;
    const verdict = runStages(route.stages, ctx);
    if (verdict === null) return this.#allow(route);
    if (verdict instanceof Promise) {
      verdict.then((v) => this.#settle(route, v), (err: unknown) => this.#internalError(err));
      return;
    }
    this.#deny(verdict);
  }

  /** After a stage awaited I/O; a throw here must not become an unhandled rejection of `then`. */
  #settle(route: CompiledRoute, v: Respond | null): void {
    try {
      if (v === null) this.#allow(route);
      else this.#deny(v);
    } catch (err) {
      this.#internalError(err);
    }
  }

  #allow(route: CompiledRoute): void {
    const x = this.x;
    if (x.res.destroyed) return; // the caller left while a stage was waiting
    x.respond(allowAnswer(x.ctx, route, this.#kind!, this.#spoofed, cachePolicyOf(x.gateway)));
  }

  #deny(r: Respond): void {
    this.x.respond(this.#kind === 'nginx' ? forNginx(this.x.ctx, r) : r);
  }

  #internalError(err: unknown): void {
    const x = this.x;
    x.gateway.metrics.internalErrorsTotal.labels('forward-auth').inc();
    x.gateway.logger.error({ requestId: x.ctx.id, err }, 'internal error in the forward-auth pipeline');
    x.ctx.responseHeaders = null; // a 500 carries none of the headers a stage or the allow had added
    if (this.#kind === 'nginx') x.respond(forNginx(x.ctx, INTERNAL), true);
    else x.respond(INTERNAL, true);
  }
}
