/**
 * The listeners of PRODUCT §3: `http` (serving the edge shape it is handed), `https`
 * (https-listener.ts), `auth` (auth-listener.ts), `authGrpc` (auth-grpc-listener.ts), `admin`, and the built-in `demo` upstream.
 * Each is a node:http server created with the request limits of `server.limits`, so slowloris
 * and oversized headers are refused by Node's parser before any of our code runs.
 */
import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import type { GatewayHolder } from '../pipeline/gateway.js';
import { createHttpsListener } from './https-listener.js';
import { createAuthListener } from './auth-listener.js';
import { createAuthGrpcListener } from './auth-grpc-listener.js';
import { createAdminServer } from './admin.js';
import { createEchoUpstream } from '../demo/echo-upstream.js';
import { underConfigKey } from '../tls/files.js';
import { applyLimits, createTrafficServer, type Listener, type Shapes } from './listener.js';

/** The configured listeners, each serving the shape it is for (`shapes`: from main.ts, via src/shapes.ts). */
export function createListeners(holder: GatewayHolder, isShuttingDown: () => boolean, shapes: Shapes): Listener[] {
  const { listeners, server: serverCfg } = holder.current.config;
  const out: Listener[] = [];
  const https = listeners.https ? createHttpsListener(holder, listeners.https, serverCfg.limits, shapes.edge) : null;
  // The port a redirect names: redirectPort, else where the HTTPS listener is bound (port 0 → known after listen).
  const httpsPort = (): number => listeners.http?.redirectPort ?? (https?.server.address() as AddressInfo | null)?.port ?? listeners.https?.port ?? 443;
  if (listeners.http) {
    // redirectToHttps (issue 7): the edge shape answers 308 to the HTTPS listener instead of proxying.
    const side = { proto: 'http', hsts: null, redirectPort: listeners.http.redirectToHttps ? httpsPort : null } as const;
    const server = createTrafficServer(holder, serverCfg.limits, shapes.edge(holder, side));
    out.push({ name: 'http', server, config: listeners.http, reconfigure: async (next) => applyLimits(server, next.limits) });
  }
  if (https) out.push(https);
  if (listeners.auth) out.push(createAuthListener(holder, listeners.auth, serverCfg.limits, shapes.auth));
  if (listeners.authGrpc) out.push(createAuthGrpcListener(holder, listeners.authGrpc, serverCfg.limits, shapes.authGrpc));
  // With server.workers the cluster primary serves admin for all workers (server/cluster/).
  if (listeners.admin && !cluster.isWorker) out.push({ name: 'admin', server: createAdminServer(holder, isShuttingDown), config: listeners.admin });
  if (listeners.demo) out.push({ name: 'demo', server: createEchoUpstream(), config: listeners.demo });
  return out;
}

export async function listen(l: Listener): Promise<AddressInfo> {
  try {
    await l.prepare?.();
  } catch (err) {
    throw underConfigKey(`listeners.${l.name}`, err);
  }
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    l.server.once('error', onError);
    l.server.listen({ host: l.config.host, port: l.config.port }, () => {
      l.server.off('error', onError);
      resolve(l.server.address() as AddressInfo);
    });
  });
}
