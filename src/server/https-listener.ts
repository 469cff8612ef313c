/**
 * The HTTPS listener (issue 7; PRODUCT §1.1, §3 `listeners.https`): TLS termination with
 * HTTP/2 negotiated by ALPN (RFC 7301) and HTTP/1.1 as fallback on the same port. Node's
 * HTTP/2 compatibility API hands the pipeline the same (req, res) pair as HTTP/1.1, so auth,
 * limits, WAF, forwarding and the access log run unchanged; the differences are handled where
 * they arise (tls/h2-headers.ts, pipeline/host.ts, pipeline/exchange.ts hasBody, contract/respond.ts).
 *
 * Certificates and handshakes live in ListenerTls (tls-listener.ts, shared with the auth listener):
 * loaded before listen, rotated in place.
 * Drain: HTTP/1.1 connections close when idle, HTTP/2 sessions get a GOAWAY (RFC 9113 §6.8)
 * so their streams finish and no new one starts.
 */
import { Server as HttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { constants as h2, createSecureServer, Http2ServerResponse, type Http2SecureServer, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import type { HttpsListenerConfig, LimitsConfig } from '../config/types.js';
import type { Gateway } from '../pipeline/gateway.js';
import { createExchange } from '../pipeline/create-exchange.js';
import type { GatewayHolder } from '../pipeline/gateway.js';
import { NO_TUNNEL, refuseConnect, refuseExpectation } from './unsupported.js';
import { ListenerTls } from './tls-listener.js';
import { upgradeListener } from './upgrade.js';
import { Hsts } from '../tls/hsts.js';
import { Http2Guard } from '../tls/h2-session-guard.js';
import { http2ServerOptions } from '../tls/h2-options.js';
import type { Listener, ListenerServer, Shape, ShapeHandlers } from './listener.js';


/**
 * http.ServerResponse has `destroyed` and the pipeline reads it (a client gone mid-request is a
 * 499, not an upstream error); Http2ServerResponse has none, so it answers for its stream.
 */
class H2Response extends Http2ServerResponse {}
Object.defineProperty(H2Response.prototype, 'destroyed', {
  get(this: Http2ServerResponse): boolean { return this.stream.destroyed; },
});

/** The `request` listener: HSTS on every response, then the shape's handler (the edge pipeline). */
class HttpsEdge {
  readonly #edge: ShapeHandlers;
  readonly #hsts: Hsts;

  constructor(edge: ShapeHandlers, hsts: Hsts) {
    this.#edge = edge;
    this.#hsts = hsts;
  }

  readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    // RFC 6797 §7.1: on every response over secure transport, denials included.
    this.#hsts.apply(res);
    if (req.httpVersionMajor === 2) setImmediate(startH2Request, this.#edge, req, res);
    else this.#edge.onRequest(req, res);
  };
}

/**
 * Node emits an HTTP/2 request while nghttp2 is still reading the bytes that carried it; a
 * RST_STREAM in the same read is processed only after. One turn later that read is done, so a
 * stream reset on arrival (rapid reset) is seen as gone here and no stage, Redis call or upstream
 * request is started for it (issue 21): it is only logged, as a 499.
 */
function startH2Request(edge: ShapeHandlers, req: IncomingMessage, res: ServerResponse): void {
  const stream = (res as unknown as Http2ServerResponse).stream;
  if (stream.closed || stream.destroyed) (edge.onGone ?? edge.onRequest)(req, res);
  else edge.onRequest(req, res);
}

/**
 * RFC 9113 §8.1: after a complete response (a denial, a 413) the server "MAY request that the
 * client abort transmission of a request without error by sending a RST_STREAM with an error
 * code of NO_ERROR". Node does so only for a body nobody started reading; a body already piped
 * towards an upstream would otherwise keep the stream half-open, its client blocked on flow
 * control, until the session dies. The HTTP/1.1 counterpart is closing the connection.
 */
function onResponseSent(this: ServerHttp2Stream): void {
  // After the last DATA frame has gone, as Node's own graceful close does.
  if (!this.readableEnded && !this.destroyed) setImmediate(stopRequestBody, this);
}

function stopRequestBody(stream: ServerHttp2Stream): void {
  if (!stream.closed && !stream.destroyed && !stream.readableEnded) stream.close(h2.NGHTTP2_NO_ERROR);
}

/** `edgeShape`: the shape this listener serves (main.ts hands it over; this file never imports a shape). */
export function createHttpsListener(holder: GatewayHolder, cfg: HttpsListenerConfig, limits: LimitsConfig, edgeShape: Shape): Listener {
  const hsts = new Hsts(cfg.hsts ?? null);
  const handlers = edgeShape(holder, { proto: 'https', hsts, redirectPort: null });
  const edge = new HttpsEdge(handlers, hsts);
  const sessions = new Set<ServerHttp2Session>();
  // HTTP/2 timeouts read the limits current when a session or stream starts (a reload changes them).
  let current = limits;
  const guard = new Http2Guard(limits.http2, limits.keepAliveTimeoutMs, (reason) => {
    holder.current.metrics.http2GoawaysTotal.labels(reason).inc();
    holder.current.warnings.warn('http2_goaway', { reason }, 'HTTP/2 session over its budget: GOAWAY (ENHANCE_YOUR_CALM) and closed');
  });
  // The TLS keys, certificates and handshake events: shared with the auth listener (tls-listener.ts).
  const tls = new ListenerTls(holder, cfg, limits, { recordClientCerts: true, hsts });
  const tlsOptions = tls.options;
  let server: ListenerServer & (Http2SecureServer | import('node:https').Server);
  if (cfg.http2) {
    const h2server: Http2SecureServer = createSecureServer({
      ...tlsOptions,
      allowHTTP1: true,
      Http2ServerResponse: H2Response,
      ...http2ServerOptions(limits),
    });
    h2server.on('request', edge.onRequest as unknown as (req: unknown, res: unknown) => void);
    h2server.on('session', (session: ServerHttp2Session) => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
      guard.attach(session);
    });
    // requestTimeoutMs and minBodyBytesPerSec bound a stream's body (edge/body-watch.ts): an idle
    // timer here would be reset by every byte of a body dripped one byte at a time.
    h2server.on('stream', (stream: ServerHttp2Stream) => {
      if (!guard.admit(stream)) return;
      stream.once('finish', onResponseSent);
    });
    server = Object.assign(h2server, {
      // HttpServer.prototype's versions handle the HTTP/1.1 connections (Node tracks them for allowHTTP1).
      closeIdleConnections(): void {
        Reflect.apply(HttpServer.prototype.closeIdleConnections, h2server, []);
        for (const s of sessions) if (!s.closed) s.close();
      },
      closeAllConnections(): void {
        Reflect.apply(HttpServer.prototype.closeAllConnections, h2server, []);
        for (const s of sessions) s.destroy();
      },
    });
  } else {
    server = createHttpsServer({ ...tlsOptions, maxHeaderSize: limits.maxHeaderBytes, requireHostHeader: false, insecureHTTPParser: false }, edge.onRequest);
  }
  // The HTTP/1.1 side: the same limits and parser settings as the plain listener (listeners.ts).
  Object.assign(server, { insecureHTTPParser: false, requireHostHeader: false, connectionsCheckingInterval: 1_000 });
  applyHttp1Limits(server, limits);

  tls.attach(server);
  // Both server kinds are tls.Servers; their events are registered through that one type.
  const events: TlsServer = server;
  if (handlers.onUpgrade) events.on('upgrade', upgradeListener(server, handlers.onUpgrade, true));
  const refuseH1 = refuseConnect(holder, 'https', hsts);
  events.on('connect', (req: IncomingMessage, second: unknown) => {
    if (!(second instanceof Http2ServerResponse)) return refuseH1(req, second as Socket);
    const gateway = holder.current;
    gateway.acquire();
    hsts.apply(second);
    createExchange(req, second as unknown as ServerResponse, gateway, 'https').respond(NO_TUNNEL);
  });
  events.on('checkExpectation', refuseExpectation(holder, 'https', hsts));

  return {
    name: 'https',
    server,
    config: cfg,
    prepare: () => tls.start(),
    reconfigure: async (next: Gateway) => {
      applyHttp1Limits(server, next.limits);
      if (cfg.http2 && next.limits.maxHeaderBytes !== current.maxHeaderBytes) {
        // New sessions are offered the new SETTINGS_MAX_HEADER_LIST_SIZE; open ones keep theirs.
        (server as Http2SecureServer).updateSettings({ maxHeaderListSize: next.limits.maxHeaderBytes });
      }
      if (cfg.http2 && next.limits.http2.maxConcurrentStreams !== current.http2.maxConcurrentStreams) {
        (server as Http2SecureServer).updateSettings({ maxConcurrentStreams: next.limits.http2.maxConcurrentStreams });
      }
      // The budgets apply to the sessions and streams that start after the reload.
      guard.limits = next.limits.http2;
      guard.keepAliveMs = next.limits.keepAliveTimeoutMs;
      current = next.limits;
      const nextCfg = next.config.listeners.https;
      if (nextCfg === undefined) return; // removing the listener needs a restart (runtime.ts says so)
      hsts.value = nextCfg.hsts ?? null;
      await tls.reconfigure(nextCfg, next.limits);
    },
    dispose: () => tls.close(),
  };
}

/** server.limits for the HTTP/1.1 side (Node's http code reads these from the server object). */
function applyHttp1Limits(server: object, limits: LimitsConfig): void {
  Object.assign(server, {
    // Read by Node's HTTP/1.1 parser per new connection.
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // As listeners.ts applyLimits: count unbounded, bytes bounded, so req.headers and rawHeaders agree.
    maxHeadersCount: 0,
  });
}
