/**
 * One forward-auth decision: the adapter of the endpoint turns the caller's request into a
 * RequestCtx of shape 'forward-auth' describing the original request; then the decision the edge
 * makes, by the same code (pipeline/decide.ts: route match and the route's own stages); the
 * terminal step is allow.ts instead of proxy/. STYLE §2: adapters and a terminal step, never a
 * second pipeline. The Exchange records the access-log line and metrics when the response closes,
 * exactly as for the edge.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gateway } from '../pipeline/gateway.js';
import type { Respond } from '../contract/types.js';
import { decide, recordInternalError, type Terminal } from '../pipeline/decide.js';
import { BAD_REQUEST, NO_ROUTE } from '../contract/respond.js';
import type { CompiledRoute } from '../route/compiled-route.js';
import { canonicalIp } from '../route/client-ip.js';
import { RequestCtx } from '../pipeline/context.js';
import { Exchange } from '../pipeline/exchange.js';
import { refusedForFraming } from '../pipeline/framing.js';
import { hostOf } from '../pipeline/host.js';
import { chooseRequestId } from '../pipeline/request-id.js';
import { startRequestTrace } from '../pipeline/trace.js';
import { allowAnswer, forNginx, type CallerKind } from './allow.js';
import { cachePolicyOf } from './cache.js';
import { ENVOY_PREFIX, readEnvoy } from './envoy.js';
import { stageHeaders } from './headers.js';
import { HAPROXY_META_HEADERS, readHaproxy } from './haproxy.js';
import { NGINX_META_HEADERS, readNginx } from './nginx.js';
import { fail, pathForLog, type Caller, type Original } from './original.js';
import { TRAEFIK_META_HEADERS, readTraefik } from './traefik.js';

const META: Readonly<Record<CallerKind, ReadonlySet<string>>> = {
  nginx: new Set(NGINX_META_HEADERS),
  traefik: new Set(TRAEFIK_META_HEADERS),
  envoy: new Set(),
  haproxy: new Set(HAPROXY_META_HEADERS),
};

/** `/nginx`, `/traefik`, `/haproxy` (a query string is ignored), `/envoy/…`; null for anything else (404). */
export function endpointOf(url: string): CallerKind | null {
  if (url.startsWith(ENVOY_PREFIX + '/')) return 'envoy';
  if (url === '/nginx' || url.startsWith('/nginx?')) return 'nginx';
  if (url === '/traefik' || url.startsWith('/traefik?')) return 'traefik';
  if (url === '/haproxy' || url.startsWith('/haproxy?')) return 'haproxy';
  return null;
}

function readOriginal(kind: CallerKind, c: Caller, req: IncomingMessage, url: string, gateway: Gateway): Original {
  if (kind === 'nginx') return readNginx(c, gateway.config.listeners.auth?.trustOriginalUrl);
  if (kind === 'traefik') return readTraefik(c);
  if (kind === 'haproxy') return readHaproxy(c);
  return readEnvoy(c, req.method, url);
}

/** The forward-auth ends of the shared decision (pipeline/decide.ts), one per decision: it knows its caller. */
export class ForwardAuthCall implements Terminal {
  readonly x: Exchange;
  readonly #kind: CallerKind | null;
  readonly #spoofed: string[] | null;
  /** The caller's own request is framed ambiguously (pipeline/framing.ts). */
  readonly #badFraming: boolean;

  constructor(req: IncomingMessage, res: ServerResponse, gateway: Gateway) {
    const startNs = process.hrtime.bigint();
    const peer = canonicalIp(req.socket.remoteAddress ?? '');
    const trusted = gateway.trusted.isTrusted(peer);
    const url = req.url ?? '';
    const kind = endpointOf(url);
    const caller: Caller = { headers: req.headers, peer, trusted, trustedProxies: gateway.trusted, listenerProto: 'http' };
    const original = kind === null ? fail('unknown_endpoint', pathForLog(url)) : readOriginal(kind, caller, req, url, gateway);
    const seen = stageHeaders(req.headers, req.rawHeaders, gateway.injectable, META[kind ?? 'envoy']);
    const id = chooseRequestId(req.headers['x-request-id'], trusted);
    const ctx = original.ok
      ? new RequestCtx(id, original.clientIp, 'forward-auth', original.method, original.host, original.path, original.query, original.proto, seen.headers, startNs)
      : new RequestCtx(id, peer, 'forward-auth', req.method ?? 'GET', hostOf(req.headers.host), original.pathForLog, '', 'http', seen.headers, startNs);
    ctx.rawHeaders = seen.rawHeaders;
    ctx.peerTrusted = trusted;
    if (original.ok) ctx.originalPort = original.port;
    this.x = new Exchange(req, res, ctx, gateway);
    this.x.peer = peer;
    this.x.peerTrusted = trusted;
    this.x.targetOk = original.ok;
    if (gateway.tracing.enabled) startRequestTrace(this.x);
    this.#kind = kind;
    this.#spoofed = seen.spoofed;
    this.#badFraming = refusedForFraming(req);
  }

  run(): void {
    // The caller's connection itself is in doubt: a plain 400 in no caller's form (NGINX's
    // X-Auth-Status mapping is for the original request), and the connection closes.
    if (this.#badFraming) this.x.respond(BAD_REQUEST, true);
    // Not one of the three endpoints: a plain 404, in no caller's form.
    else if (this.#kind === null) this.x.respond(NO_ROUTE);
    else decide(this.x, this);
  }

  /** Every route the config has is a forward-auth route: `upstream` is the edge's business only. */
  admit(): Respond | null {
    return null;
  }

  allow(x: Exchange, route: CompiledRoute): void {
    x.respond(allowAnswer(x.ctx, route, this.#kind!, this.#spoofed, cachePolicyOf(x.gateway)));
  }

  deny(x: Exchange, r: Respond): void {
    x.respond(this.#kind === 'nginx' ? forNginx(x.ctx, r) : r);
  }

  /** As at the edge, the connection closes after a 500: whatever broke may have left it in doubt. */
  fail(x: Exchange, err: unknown): void {
    const r = recordInternalError(x, err);
    x.respond(this.#kind === 'nginx' ? forNginx(x.ctx, r) : r, true);
  }
}
