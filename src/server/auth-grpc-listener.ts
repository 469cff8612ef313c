/**
 * `listeners.authGrpc` (issue 19 item 4): the port of Envoy's ext_authz gRPC service. grpc-js
 * brings its own HTTP/2 server, so this listener is a plain TCP server — or a TLS one with ALPN
 * `h2`, through the same implementation as `listeners.auth` (tls-listener.ts) — that accepts each
 * connection and hands it to the shape it was handed (forward-auth/grpc/shape.ts).
 *
 * runtime.ts drains it like the other traffic listeners: `closeIdleConnections` sends GOAWAY on
 * every HTTP/2 session (the calls in flight finish, the client opens no new stream), and once the
 * grace period is over `closeAllConnections` destroys what is left.
 */
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { AuthGrpcListenerConfig, LimitsConfig } from '../config/types.js';
import type { Gateway, GatewayHolder } from '../pipeline/gateway.js';
import { authListenerTls } from './auth-listener.js';
import type { ConnectionHandlers, ConnectionShape, Listener, ListenerServer } from './listener.js';
import { ListenerTls, type SecureServer } from './tls-listener.js';

export function createAuthGrpcListener(holder: GatewayHolder, cfg: AuthGrpcListenerConfig, limits: LimitsConfig, shape: ConnectionShape): Listener {
  const handlers = shape(holder);
  const tlsCfg = authListenerTls(cfg);
  if (tlsCfg === null) {
    const server = createNetServer({ noDelay: true });
    server.on('connection', (socket: Socket) => handlers.onConnection(socket));
    return { name: 'authGrpc', server: drainable(server, handlers), config: cfg };
  }
  // The proxy's certificate authenticates the caller, not the user decided about: not recorded.
  const tls = new ListenerTls(holder, tlsCfg, limits, { recordClientCerts: false, hsts: null });
  // gRPC is HTTP/2 only: a client that cannot negotiate h2 fails the handshake (RFC 7301 §3.2).
  const server = createTlsServer({ ...tls.options, ALPNProtocols: ['h2'] }) as SecureServer;
  tls.attach(server);
  server.on('secureConnection', (socket: TLSSocket) => handlers.onConnection(socket));
  return {
    name: 'authGrpc',
    server: drainable(server, handlers),
    config: cfg,
    prepare: () => tls.start(),
    reconfigure: async (next: Gateway) => {
      const nextCfg = next.config.listeners.authGrpc;
      const nextTls = nextCfg === undefined ? null : authListenerTls(nextCfg);
      // Turning TLS on or off needs a restart (runtime.ts reports it); certificates rotate here.
      if (nextTls !== null) await tls.reconfigure(nextTls, next.limits);
    },
    dispose: () => tls.close(),
  };
}

/** What runtime.ts's drain calls on a node:http server, for a server whose HTTP/2 sessions are grpc-js's. */
function drainable(server: NetServer, handlers: ConnectionHandlers): ListenerServer {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return Object.assign(server, {
    closeIdleConnections: (): void => handlers.goAway(),
    closeAllConnections: (): void => {
      for (const s of sockets) s.destroy();
    },
  });
}
