/**
 * The forward-auth shape (PRODUCT §5): what the `auth` listener (server/auth-listener.ts) serves.
 * Each request is a forward-auth decision (call.ts) for the original request it describes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayHolder } from '../pipeline/gateway.js';
import type { Shape } from '../server/listener.js';
import { createExchange } from '../pipeline/create-exchange.js';
import { followsFramingRefusal } from '../pipeline/framing.js';
import { ForwardAuthCall } from './call.js';

export class ForwardAuthHandler {
  readonly #holder: GatewayHolder;

  constructor(holder: GatewayHolder) {
    this.#holder = holder;
  }

  /** The node:http 'request' listener. */
  readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (followsFramingRefusal(req)) return; // pipeline/framing.ts: the connection closes after that 400
    const gateway = this.#holder.current;
    gateway.acquire();
    if (this.#holder.shuttingDown) res.shouldKeepAlive = false;
    // NGINX / Traefik proxy the sign-in endpoints here (config/nginx): the browser's request itself, not a check.
    const signIn = gateway.signIn;
    if (signIn !== null && signIn.ownsTarget(req.url ?? '')) return signIn.serve(createExchange(req, res, gateway, 'http'));
    new ForwardAuthCall(req, res, gateway).run();
  };
}

/** The forward-auth shape: one handler per auth listener; it upgrades nothing. */
export const forwardAuthShape: Shape = (holder) => ({ onRequest: new ForwardAuthHandler(holder).onRequest });
