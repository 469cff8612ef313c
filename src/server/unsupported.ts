/**
 * Requests Node would otherwise answer (or drop) without our JSON body, request id and log
 * line: CONNECT (a reverse proxy is no tunnel: 405) and an `Expect` other than 100-continue
 * (417, RFC 9110 §10.1.1). Both still go through an Exchange so they are logged and counted.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Respond } from '../contract/types.js';
import { createExchange } from '../pipeline/create-exchange.js';
import type { GatewayHolder } from '../pipeline/gateway.js';
import type { Hsts } from '../tls/hsts.js';

/** 405 for CONNECT, with the Allow field RFC 9110 §15.5.6 requires; also HTTP/2's (https-listener.ts). */
export const NO_TUNNEL: Respond = Object.freeze({
  kind: 'respond', status: 405, decision: 'bad_request', error: 'method_not_allowed', headers: Object.freeze({ allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS' }),
});
const EXPECTATION_FAILED: Respond = Object.freeze({ kind: 'respond', status: 417, decision: 'bad_request', error: 'expectation_failed' });

/** `hsts`: the HTTPS listener's (tls/hsts.ts); these answers go over TLS too. */
export function refuseConnect(holder: GatewayHolder, proto: 'http' | 'https', hsts: Hsts | null = null) {
  return (req: IncomingMessage, socket: Duplex): void => {
    const gateway = holder.current;
    gateway.acquire();
    const res = new ServerResponse(req);
    res.assignSocket(socket as import('node:net').Socket);
    hsts?.apply(res);
    socket.on('error', () => socket.destroy());
    res.once('finish', () => socket.end());
    createExchange(req, res, gateway, proto).respond(NO_TUNNEL, true);
  };
}

export function refuseExpectation(holder: GatewayHolder, proto: 'http' | 'https', hsts: Hsts | null = null) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const gateway = holder.current;
    gateway.acquire();
    hsts?.apply(res);
    createExchange(req, res, gateway, proto).respond(EXPECTATION_FAILED, true);
  };
}
