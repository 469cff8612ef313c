/**
 * What a listener is and what it serves (docs/architecture.md): runtime.ts starts, reconfigures
 * and drains Listeners; a listener that takes client traffic calls the handlers of the shape it
 * was handed (src/shapes.ts, via main.ts) and never imports a shape. Also the node:http settings
 * every traffic listener shares.
 */
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { LimitsConfig, PlainListenerConfig } from '../config/types.js';
import type { Gateway, GatewayHolder } from '../pipeline/gateway.js';
import type { Hsts } from '../tls/hsts.js';
import { handleClientError } from './client-error.js';
import { refuseConnect, refuseExpectation } from './unsupported.js';
import { upgradeListener } from './upgrade.js';

/** Where a shape's handlers are attached. */
export interface ListenerSide {
  readonly proto: 'http' | 'https';
  /** The HTTPS listener's HSTS (tls/hsts.ts), for answers the shape writes itself; null on plain HTTP. */
  readonly hsts: Hsts | null;
  /** With `listeners.http.redirectToHttps`: the port a redirect names; else null. */
  readonly redirectPort: (() => number) | null;
}

/** A shape's node:http handlers for one listener. */
export interface ShapeHandlers {
  readonly onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * An HTTP/2 request whose stream was reset before it started (https-listener.ts): only
   * recorded, nothing run. Absent: such a request goes to onRequest like any other.
   */
  readonly onGone?: (req: IncomingMessage, res: ServerResponse) => void;
  /** 'upgrade' (WebSocket; other offers are served as plain requests, upgrade.ts); absent: Node serves every upgrade offer as a plain request. */
  readonly onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/** A kind of traffic (PRODUCT's two shapes): handlers for a listener, made once per listener. */
export type Shape = (holder: GatewayHolder, side: ListenerSide) => ShapeHandlers;

/**
 * A shape that takes whole connections rather than node:http requests: forward-auth's gRPC
 * service (forward-auth/grpc/), whose HTTP/2 server is grpc-js's own. The listener accepts (and
 * for TLS, handshakes) each connection and hands it over.
 */
export interface ConnectionHandlers {
  /** A new connection, in clear text (TLS already terminated by the listener). */
  readonly onConnection: (socket: Duplex) => void;
  /** Drain: GOAWAY on every session; calls in flight finish. Idempotent. */
  readonly goAway: () => void;
}

export type ConnectionShape = (holder: GatewayHolder) => ConnectionHandlers;

/** The shapes a process serves: `edge` on http/https, `auth` on the auth listener, `authGrpc` on its gRPC port. */
export interface Shapes {
  readonly edge: Shape;
  readonly auth: Shape;
  readonly authGrpc: ConnectionShape;
}

export type ListenerName = 'http' | 'https' | 'auth' | 'authGrpc' | 'admin' | 'demo';

/** What runtime.ts needs of a server: node:http's, or the HTTPS listener's (https-listener.ts). */
export type ListenerServer = NetServer & { closeIdleConnections(): void; closeAllConnections(): void };

export interface Listener {
  readonly name: ListenerName;
  readonly server: ListenerServer;
  readonly config: PlainListenerConfig;
  /** Work before listening: the HTTPS listener loads its certificates (a failure stops startup). */
  readonly prepare?: () => Promise<void>;
  /** After a config reload took over (SIGHUP): what this listener can change in place. Never rejects. */
  readonly reconfigure?: (next: Gateway) => Promise<void>;
  /** After the listener closed: stop watchers. */
  readonly dispose?: () => void;
}

/** Apply the request limits; also used on reload, where they can change in place. */
export function applyLimits(server: Server, limits: LimitsConfig): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // 0 = no count cap. A cap makes Node drop the excess from req.headers but not from
  // req.rawHeaders, so routing and forwarding would read different headers (a Host after
  // header #200 could skip a host-restricted route). maxHeaderBytes bounds the head instead.
  server.maxHeadersCount = 0;
  // Read by Node's parser for each new connection (a server option, kept as this property).
  Object.assign(server, { maxHeaderSize: limits.maxHeaderBytes });
}

/**
 * Node server options for listeners that take client traffic (edge and forward-auth): the
 * request limits, a strict parser, and Host left to our own checks so its 400 is ours (JSON,
 * logged, counted): pipeline/host.ts on the edge, forward-auth/original.ts for callers.
 */
export function trafficServerOptions(limits: LimitsConfig): ServerOptions {
  return {
    maxHeaderSize: limits.maxHeaderBytes,
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often Node checks headers/request timeouts (slowloris); the default 30 s is too coarse.
    connectionsCheckingInterval: 1_000,
    requireHostHeader: false,
    insecureHTTPParser: false,
    noDelay: true,
  };
}

/**
 * A plain-HTTP traffic listener (edge or auth) serving `shape`: Node's parser errors, CONNECT and
 * unknown Expect values get the server's own logged answers (client-error.ts, unsupported.ts).
 */
export function createTrafficServer(holder: GatewayHolder, limits: LimitsConfig, shape: ShapeHandlers): Server {
  const server = createServer(trafficServerOptions(limits), shape.onRequest);
  applyLimits(server, limits);
  server.on('clientError', (err: Error, socket) => handleClientError(holder, err, socket as Socket));
  if (shape.onUpgrade) server.on('upgrade', upgradeListener(server, shape.onUpgrade, false));
  server.on('connect', refuseConnect(holder, 'http'));
  server.on('checkExpectation', refuseExpectation(holder, 'http'));
  return server;
}
