/**
 * The listeners of PRODUCT §3: `http` (edge shape), `admin`, and the
 * built-in `demo` upstream. Each is a node:http server created with the
 * request limits of `server.limits`, so slowloris and oversized headers are
 * refused by Node's parser before any of our code runs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LimitsConfig, PlainListenerConfig } from '../config/types.js';
import { EdgeHandler, type GatewayHolder } from './edge.js';
import { handleClientError } from './client-error.js';
import { createAdminServer } from '../observe/admin.js';
import { createEchoUpstream } from '../demo/echo-upstream.js';
import { WebSocketHandler } from './websocket.js';
import { refuseConnect, refuseExpectation } from './unsupported.js';

export type ListenerName = 'http' | 'admin' | 'demo';

export interface Listener {
  readonly name: ListenerName;
  readonly server: Server;
  readonly config: PlainListenerConfig;
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
}

function createEdgeServer(holder: GatewayHolder, limits: LimitsConfig): Server {
  const edge = new EdgeHandler(holder, 'http');
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node checks headers/request timeouts (slowloris); the default 30 s is too coarse.
      connectionsCheckingInterval: 1_000,
      // Host is checked in the pipeline (server/host.ts) so the 400 is ours: JSON, logged, counted.
      requireHostHeader: false,
      insecureHTTPParser: false,
      noDelay: true,
    },
    edge.onRequest,
  );
  applyLimits(server, limits);
  server.on('clientError', (err: Error, socket) => handleClientError(holder, err, socket as import('node:net').Socket));
  const ws = new WebSocketHandler(holder, 'http');
  server.on('upgrade', ws.onUpgrade);
  server.on('connect', refuseConnect(holder, 'http'));
  server.on('checkExpectation', refuseExpectation(holder, 'http'));
  return server;
}

export function createListeners(holder: GatewayHolder, isShuttingDown: () => boolean): Listener[] {
  const { listeners, server: serverCfg } = holder.current.config;
  const out: Listener[] = [];
  if (listeners.http) out.push({ name: 'http', server: createEdgeServer(holder, serverCfg.limits), config: listeners.http });
  if (listeners.admin) out.push({ name: 'admin', server: createAdminServer(holder, isShuttingDown), config: listeners.admin });
  if (listeners.demo) out.push({ name: 'demo', server: createEchoUpstream(), config: listeners.demo });
  return out;
}

export function listen(l: Listener): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    l.server.once('error', onError);
    l.server.listen({ host: l.config.host, port: l.config.port }, () => {
      l.server.off('error', onError);
      resolve(l.server.address() as AddressInfo);
    });
  });
}
