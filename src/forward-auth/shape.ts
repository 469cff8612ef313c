/**
 * The `auth` listener (PRODUCT §3, §5): a node:http server with the same request limits as the
 * edge's, whose requests are forward-auth decisions (call.ts). Requests Node's parser refuses,
 * CONNECT and unknown Expect values get the edge's answers (server/client-error.ts,
 * server/unsupported.ts), so they are logged and counted too.
 *
 * With `cert` (issue 14, PRODUCT §8) it speaks TLS, optionally mTLS, through the same
 * implementation as `listeners.https` (server/tls-listener.ts): NGINX `proxy_ssl_certificate`,
 * Envoy's transport socket and Traefik's ForwardAuth `tls` reach it encrypted and authenticated.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { AuthListenerConfig, LimitsConfig, ListenerTlsConfig } from '../config/types.js';
import type { Gateway } from '../pipeline/gateway.js';
import type { GatewayHolder } from '../pipeline/gateway.js';
import { handleClientError } from '../server/client-error.js';
import { applyLimits, trafficServerOptions, type Listener } from '../server/listeners.js';
import { ListenerTls } from '../server/tls-listener.js';
import { refuseConnect, refuseExpectation } from '../server/unsupported.js';
import { ForwardAuthCall } from './call.js';

export class ForwardAuthHandler {
  readonly #holder: GatewayHolder;

  constructor(holder: GatewayHolder) {
    this.#holder = holder;
  }

  /** The node:http 'request' listener. */
  readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const gateway = this.#holder.current;
    gateway.acquire();
    if (this.#holder.shuttingDown) res.shouldKeepAlive = false;
    new ForwardAuthCall(req, res, gateway).run();
  };
}

export function createAuthServer(holder: GatewayHolder, limits: LimitsConfig): Server {
  const handler = new ForwardAuthHandler(holder);
  const server = createServer(
    trafficServerOptions(limits),
    handler.onRequest,
  );
  applyLimits(server, limits);
  server.on('clientError', (err: Error, socket) => handleClientError(holder, err, socket as Socket));
  server.on('connect', refuseConnect(holder, 'http'));
  server.on('checkExpectation', refuseExpectation(holder, 'http'));
  return server;
}

/** The TLS keys of an auth listener in the shape the HTTPS listener's code takes; null without `cert`. */
export function authListenerTls(cfg: AuthListenerConfig): ListenerTlsConfig | null {
  if (cfg.cert === undefined || cfg.key === undefined) return null;
  const { cert, key, minVersion = 'TLSv1.2', clientCa, requireClientCert = false } = cfg;
  return { cert, key, minVersion, requireClientCert, certificates: [], ...(clientCa === undefined ? {} : { clientCa }) };
}

/** `listeners.auth`: plain HTTP, or HTTPS (HTTP/1.1) when it has a certificate. */
export function createAuthListener(holder: GatewayHolder, cfg: AuthListenerConfig, limits: LimitsConfig): Listener {
  const tlsCfg = authListenerTls(cfg);
  if (tlsCfg === null) {
    const server = createAuthServer(holder, limits);
    return { name: 'auth', server, config: cfg, reconfigure: async (next: Gateway) => applyLimits(server, next.limits) };
  }
  const tls = new ListenerTls(holder, tlsCfg, limits, { recordClientCerts: false, hsts: null });
  const handler = new ForwardAuthHandler(holder);
  const server = createHttpsServer({ ...trafficServerOptions(limits), ...tls.options }, handler.onRequest);
  // https.Server is an http.Server for Node's HTTP/1.1 code: the same limits apply.
  applyLimits(server as unknown as Server, limits);
  tls.attach(server);
  server.on('connect', refuseConnect(holder, 'https'));
  server.on('checkExpectation', refuseExpectation(holder, 'https'));
  return {
    name: 'auth',
    server,
    config: cfg,
    prepare: () => tls.start(),
    reconfigure: async (next: Gateway) => {
      applyLimits(server as unknown as Server, next.limits);
      const nextCfg = next.config.listeners.auth;
      const nextTls = nextCfg === undefined ? null : authListenerTls(nextCfg);
      // Turning TLS on or off needs a restart (runtime.ts reports it); certificates rotate here.
      if (nextTls !== null) await tls.reconfigure(nextTls, next.limits);
    },
    dispose: () => tls.close(),
  };
}
