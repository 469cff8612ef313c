/**
 * The `auth` listener (PRODUCT §3, §5): a node:http server with the same request limits as the
 * edge's, serving the forward-auth shape it is handed (forward-auth/shape.ts). Requests Node's
 * parser refuses, CONNECT and unknown Expect values get the edge's answers (client-error.ts,
 * unsupported.ts), so they are logged and counted too.
 *
 * With `cert` (issue 14, PRODUCT §8) it speaks TLS, optionally mTLS, through the same
 * implementation as `listeners.https` (tls-listener.ts): NGINX `proxy_ssl_certificate`,
 * Envoy's transport socket and Traefik's ForwardAuth `tls` reach it encrypted and authenticated.
 */
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AuthListenerConfig, AuthListenerTlsKeys, LimitsConfig, ListenerTlsConfig } from '../config/types.js';
import type { Gateway, GatewayHolder } from '../pipeline/gateway.js';
import { applyLimits, createTrafficServer, trafficServerOptions, type Listener, type Shape } from './listener.js';
import { ListenerTls } from './tls-listener.js';
import { refuseConnect, refuseExpectation } from './unsupported.js';

/** The TLS keys of an auth listener in the shape the HTTPS listener's code takes; null without `cert`. */
export function authListenerTls(cfg: AuthListenerTlsKeys): ListenerTlsConfig | null {
  if (cfg.cert === undefined || cfg.key === undefined) return null;
  const { cert, key, minVersion = 'TLSv1.2', clientCa, requireClientCert = false } = cfg;
  return { cert, key, minVersion, requireClientCert, certificates: [], ...(clientCa === undefined ? {} : { clientCa }) };
}

/**
 * `listeners.auth`: plain HTTP, or HTTPS (HTTP/1.1) when it has a certificate. `shape`: the
 * forward-auth shape (main.ts hands it over; server/ never imports a shape).
 */
export function createAuthListener(holder: GatewayHolder, cfg: AuthListenerConfig, limits: LimitsConfig, shape: Shape): Listener {
  const tlsCfg = authListenerTls(cfg);
  if (tlsCfg === null) {
    const server = createTrafficServer(holder, limits, shape(holder, { proto: 'http', hsts: null, redirectPort: null }));
    return { name: 'auth', server, config: cfg, reconfigure: async (next: Gateway) => applyLimits(server, next.limits) };
  }
  const tls = new ListenerTls(holder, tlsCfg, limits, { recordClientCerts: false, hsts: null });
  const handler = shape(holder, { proto: 'https', hsts: null, redirectPort: null });
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
