/**
 * The `auth` listener (PRODUCT §3, §5): a node:http server with the same request limits as the
 * edge's, whose requests are forward-auth decisions (call.ts). Requests Node's parser refuses,
 * CONNECT and unknown Expect values get the edge's answers (server/client-error.ts,
 * server/unsupported.ts), so they are logged and counted too.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { LimitsConfig } from '../config/types.js';
import type { GatewayHolder } from '../server/edge.js';
import { handleClientError } from '../server/client-error.js';
import { applyLimits, trafficServerOptions } from '../server/listeners.js';
import { refuseConnect, refuseExpectation } from '../server/unsupported.js';
import { createExchange } from '../server/edge.js';
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
    // NGINX / Traefik proxy the sign-in endpoints here (config/nginx): the browser's request itself, not a check.
    const signIn = gateway.signIn;
    if (signIn !== null && signIn.ownsTarget(req.url ?? '')) return signIn.serve(createExchange(req, res, gateway, 'http'));
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
