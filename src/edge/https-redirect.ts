/**
 * `listeners.http.redirectToHttps` (issue 7): every request on the plain listener is answered
 * 308 Permanent Redirect (RFC 9110 §15.4.9: method and body are kept, unlike 301) to the same
 * host, path and query on the HTTPS listener. The admin listener is another server and is
 * never redirected.
 *
 * The host comes from the request's Host header, checked like every request's (pipeline/host.ts):
 * the client is sent to the name it asked for, never to one it smuggled in. A request a trusted
 * proxy marks `X-Forwarded-Proto: https` already arrived over TLS at that proxy: redirecting it
 * would loop, so it is proxied as usual.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Respond } from '../contract/types.js';
import { canonicalIp } from '../route/client-ip.js';
import type { EdgeHandler } from './handler.js';
import { createExchange } from '../pipeline/create-exchange.js';
import type { GatewayHolder } from '../pipeline/gateway.js';
import { hasBody, type Exchange } from '../pipeline/exchange.js';
import type { WebSocketHandler } from './websocket.js';

const BAD_REQUEST: Respond = Object.freeze({ kind: 'respond', status: 400, decision: 'bad_request', error: 'bad_request' });

export class HttpsRedirect {
  readonly #holder: GatewayHolder;
  readonly #edge: EdgeHandler;
  readonly #ws: WebSocketHandler;
  /** The port written in Location: redirectPort, else the HTTPS listener's bound port (known after listen). */
  readonly #port: () => number;

  constructor(holder: GatewayHolder, edge: EdgeHandler, ws: WebSocketHandler, port: () => number) {
    this.#holder = holder;
    this.#edge = edge;
    this.#ws = ws;
    this.#port = port;
  }

  readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (this.#arrivedOverTls(req)) return this.#edge.onRequest(req, res);
    const gateway = this.#holder.current;
    gateway.acquire();
    if (this.#holder.shuttingDown) res.shouldKeepAlive = false;
    this.#redirect(createExchange(req, res, gateway, 'http'));
  };

  /** WebSocket clients do not follow redirects, but a 308 says where to go, and nothing is proxied in clear text. */
  readonly onUpgrade = (req: IncomingMessage, duplex: Duplex, head: Buffer): void => {
    if (this.#arrivedOverTls(req)) return this.#ws.onUpgrade(req, duplex, head);
    const socket = duplex as Socket;
    const gateway = this.#holder.current;
    gateway.acquire();
    const res = new ServerResponse(req);
    res.assignSocket(socket);
    socket.on('error', () => socket.destroy());
    res.once('finish', () => socket.end());
    const x = createExchange(req, res, gateway, 'http');
    this.#redirect(x, true);
  };

  #arrivedOverTls(req: IncomingMessage): boolean {
    if (req.headers['x-forwarded-proto'] !== 'https') return false;
    return this.#holder.current.trusted.isTrusted(canonicalIp(req.socket.remoteAddress ?? ''));
  }

  #redirect(x: Exchange, close = false): void {
    const host = x.ctx.host;
    if (!x.targetOk || host === '') return x.respond(BAD_REQUEST, close);
    const port = this.#port();
    // ctx.host is the validated Host, lowercased, without port; an IPv6 literal needs its brackets back.
    const authority = (host.includes(':') ? `[${host}]` : host) + (port === 443 ? '' : `:${port}`);
    const url = x.req.url ?? '/';
    const hash = url.indexOf('#');
    const location = `https://${authority}${hash < 0 ? url : url.slice(0, hash)}`;
    const headers: Record<string, string | number> = { location, 'x-request-id': x.ctx.id, 'content-length': 0 };
    // An unread request body would be parsed as the next request.
    if (close || (!x.req.complete && hasBody(x.req))) headers['connection'] = 'close';
    try {
      x.res.writeHead(308, headers);
    } catch {
      // A target Node parsed but refuses to echo in a header value: not a URL worth redirecting to.
      return x.respond(BAD_REQUEST, true);
    }
    x.res.end();
  }
}
