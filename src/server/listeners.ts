/**
 * The listeners of PRODUCT §3: `http` (edge shape), `admin`, and the
 * built-in `demo` upstream. Each is a node:http server created with the
 * request limits of `server.limits`, so slowloris and oversized headers are
 * refused by Node's parser before any of our code runs.
 */
import cluster from 'node:cluster';
import { createServer, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { HttpListenerConfig, LimitsConfig, PlainListenerConfig } from '../config/types.js';
import type { Gateway } from '../pipeline/gateway.js';
import { createHttpsListener } from './https-listener.js';
import { HttpsRedirect } from '../edge/https-redirect.js';
import { EdgeHandler } from '../edge/handler.js';
import type { GatewayHolder } from '../pipeline/gateway.js';
import { handleClientError } from './client-error.js';
import { createAdminServer } from './admin.js';
import { createEchoUpstream } from '../demo/echo-upstream.js';
import { WebSocketHandler } from '../edge/websocket.js';
import { refuseConnect, refuseExpectation } from './unsupported.js';
import { createAuthListener } from '../forward-auth/shape.js';

export type ListenerName = 'http' | 'https' | 'auth' | 'admin' | 'demo';

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
 * logged, counted): server/host.ts on the edge, forward-auth/original.ts for callers.
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

function createEdgeServer(holder: GatewayHolder, limits: LimitsConfig, cfg: HttpListenerConfig, httpsPort: () => number): Server {
  const edge = new EdgeHandler(holder, 'http');
  const ws = new WebSocketHandler(holder, 'http');
  // redirectToHttps (issue 7): 308 to the HTTPS listener instead of proxying.
  const redirect = cfg.redirectToHttps ? new HttpsRedirect(holder, edge, ws, httpsPort) : null;
  const server = createServer(
    trafficServerOptions(limits),
    redirect?.onRequest ?? edge.onRequest,
  );
  applyLimits(server, limits);
  server.on('clientError', (err: Error, socket) => handleClientError(holder, err, socket as import('node:net').Socket));
  server.on('upgrade', redirect?.onUpgrade ?? ws.onUpgrade);
  server.on('connect', refuseConnect(holder, 'http'));
  server.on('checkExpectation', refuseExpectation(holder, 'http'));
  return server;
}

export function createListeners(holder: GatewayHolder, isShuttingDown: () => boolean): Listener[] {
  const { listeners, server: serverCfg } = holder.current.config;
  const out: Listener[] = [];
  const https = listeners.https ? createHttpsListener(holder, listeners.https, serverCfg.limits) : null;
  // The port a redirect names: redirectPort, else where the HTTPS listener is bound (port 0 → known after listen).
  const httpsPort = (): number => listeners.http?.redirectPort ?? (https?.server.address() as AddressInfo | null)?.port ?? listeners.https?.port ?? 443;
  if (listeners.http) {
    const server = createEdgeServer(holder, serverCfg.limits, listeners.http, httpsPort);
    out.push({ name: 'http', server, config: listeners.http, reconfigure: async (next) => applyLimits(server, next.limits) });
  }
  if (https) out.push(https);
  if (listeners.auth) out.push(createAuthListener(holder, listeners.auth, serverCfg.limits));
  // With server.workers the cluster primary serves admin for all workers (server/workers.ts).
  if (listeners.admin && !cluster.isWorker) out.push({ name: 'admin', server: createAdminServer(holder, isShuttingDown), config: listeners.admin });
  if (listeners.demo) out.push({ name: 'demo', server: createEchoUpstream(), config: listeners.demo });
  return out;
}

export async function listen(l: Listener): Promise<AddressInfo> {
  await l.prepare?.();
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    l.server.once('error', onError);
    l.server.listen({ host: l.config.host, port: l.config.port }, () => {
      l.server.off('error', onError);
      resolve(l.server.address() as AddressInfo);
    });
  });
}
