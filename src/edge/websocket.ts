/**
 * WebSocket upgrades (issue 2): the upgrade request runs the same pipeline
 * as any request — normalisation, routing, the route's stages — and only a
 * route with `websocket: true` is proxied, through http-proxy-3. The
 * headers the upstream sees are built by the same code as for plain
 * requests (spoofed identity headers stripped, X-Forwarded-* rewritten),
 * plus the Connection/Upgrade pair the handshake needs.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import type { Respond } from '../contract/types.js';
import { decide, recordInternalError, type Terminal } from '../pipeline/decide.js';
import { BAD_REQUEST, NO_ROUTE } from '../contract/respond.js';
import type { CompiledRoute } from '../route/compiled-route.js';
import { createExchange } from '../pipeline/create-exchange.js';
import { followsFramingRefusal } from '../pipeline/framing.js';
import type { GatewayHolder } from '../pipeline/gateway.js';
import type { Exchange } from '../pipeline/exchange.js';
import { buildUpstreamHeaders } from '../proxy/headers.js';
import { traceUpgrade } from '../proxy/trace-upstream.js';
import { stripPathPrefix } from '../route/match.js';
import type { Hsts } from '../tls/hsts.js';

const NOT_ALLOWED: Respond = Object.freeze({ kind: 'respond', status: 403, decision: 'forbidden', error: 'websocket_not_allowed' });

export class WebSocketHandler {
  readonly #holder: GatewayHolder;
  readonly #proto: 'http' | 'https';
  readonly #hsts: Hsts | null;
  readonly #proxy = createProxyServer({ ws: true, xfwd: false, prependPath: true, ignorePath: false });

  /** `hsts`: the HTTPS listener's (tls/hsts.ts): on denials, and on the upstream's answer relayed. */
  constructor(holder: GatewayHolder, proto: 'http' | 'https', hsts: Hsts | null = null) {
    this.#holder = holder;
    this.#proto = proto;
    this.#hsts = hsts;
    // Without a listener http-proxy-3 rethrows; upstream failures are answered in #proxyError.
    this.#proxy.on('error', () => undefined);
    this.#proxy.on('proxyReqWs', (proxyReq, _req, _socket, options) => {
      // http-proxy-3 has no handshake timeout for upgrades: an upstream that never answers would
      // hold the client socket (and the exchange, and a retired Gateway) forever.
      const timeoutMs = (options as { proxyTimeout?: number }).proxyTimeout;
      if (timeoutMs) proxyReq.setTimeout(timeoutMs, () => proxyReq.destroy(new Error('websocket handshake timed out')));
      // Registered before http-proxy-3's own listeners (it emits proxyReqWs first), so the
      // upstream's 101 — or its non-upgrade answer — is relayed with the listener's HSTS.
      if (hsts !== null) {
        proxyReq.once('upgrade', hsts.replaceIn);
        proxyReq.once('response', hsts.replaceIn);
      }
    });
  }

  readonly onUpgrade = (req: IncomingMessage, duplex: Duplex, head: Buffer): void => {
    const socket = duplex as Socket;
    // After a framing refusal on this connection (pipeline/framing.ts): nothing more is served; end flushes that 400.
    if (followsFramingRefusal(req)) return void socket.end();
    const gateway = this.#holder.current;
    gateway.acquire();
    // A ServerResponse on the raw socket lets denials go through the ordinary respond path.
    const res = new ServerResponse(req);
    res.assignSocket(socket);
    this.#hsts?.apply(res);
    const x = createExchange(req, res, gateway, this.#proto);
    socket.on('error', () => socket.destroy());
    // The socket left Node's HTTP machinery (half-open allowed): end it after a denial so it
    // closes, which is what emits the response's 'close' and so logs the exchange.
    res.once('finish', endSocket);
    if (!x.targetOk || req.headers.upgrade?.toLowerCase() !== 'websocket' || req.method !== 'GET') return x.respond(BAD_REQUEST, true);
    // The edge's own decision (pipeline/decide.ts); only the ends are the upgrade's.
    decide(x, new UpgradeTerminal(this, head));
  };

  /** The route allowed it: hand the socket to the upstream. */
  proxyUpgrade(x: Exchange, route: CompiledRoute, head: Buffer): void {
    const target = route.upstream.pick();
    const flat = buildUpstreamHeaders(x.req.rawHeaders, x.ctx, route, x.gateway.injectable, x);
    if (x.ctx.trace !== null) traceUpgrade(x.ctx.trace, flat);
    const headers: Record<string, string> = { connection: 'Upgrade', upgrade: 'websocket' };
    for (let i = 0; i < flat.length; i += 2) headers[flat[i]!.toLowerCase()] = flat[i + 1]!;
    const req = x.req;
    req.headers = headers;
    const path = stripPathPrefix(x.ctx.path, route.stripPrefix);
    req.url = x.ctx.query === '' ? path : path + '?' + x.ctx.query;
    const socket = x.res.socket as Socket;
    x.res.off('finish', endSocket);
    x.res.detachSocket(socket);
    x.upgraded = true;
    socket.once('close', () => x.gateway.finish(x));
    // https targets: the route's CA, client certificate and fixed server name (upstream/tls.ts).
    const options = { target: target.url, proxyTimeout: route.upstream.options.timeoutMs, ...(target.tls === null ? {} : { agent: target.tls.agent() }) };
    this.#proxy.ws(req, socket, head, options, (err) => this.#proxyError(x, socket, err));
  }

  #proxyError(x: Exchange, socket: Socket, err: unknown): void {
    x.decision = 'upstream_error';
    x.upgraded = false;
    x.gateway.logUpstreamError(x, err, 'websocket upstream error');
    if (socket.writable) socket.end(`HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nX-Request-Id: ${x.ctx.id}\r\n${this.#hsts?.line() ?? ''}Content-Length: 0\r\n\r\n`);
    else socket.destroy();
  }
}

/**
 * The upgrade's ends of the shared decision. One per upgrade (it carries the handshake's `head`);
 * upgrades are rare next to requests, so the object costs nothing that matters.
 */
class UpgradeTerminal implements Terminal {
  readonly #handler: WebSocketHandler;
  readonly #head: Buffer;

  constructor(handler: WebSocketHandler, head: Buffer) {
    this.#handler = handler;
    this.#head = head;
  }

  admit(_x: Exchange, route: CompiledRoute): Respond | null {
    // A forward-auth-only route (no upstream) does not exist on the edge, as in edge/handler.ts.
    if (!route.forwards) return NO_ROUTE;
    return route.websocket ? null : NOT_ALLOWED;
  }

  allow(x: Exchange, route: CompiledRoute): void {
    this.#handler.proxyUpgrade(x, route, this.#head);
  }

  deny(x: Exchange, r: Respond): void {
    x.respond(r, true);
  }

  fail(x: Exchange, err: unknown): void {
    x.respond(recordInternalError(x, err), true);
  }
}

function endSocket(this: ServerResponse): void {
  this.socket?.end();
}
