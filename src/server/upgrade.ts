/**
 * An `Upgrade` other than WebSocket (`h2c`, `TLS/1.0`, anything else) is ignored, as RFC 9110
 * §7.8 lets a server do: the request is served as the ordinary HTTP/1.1 request it also is.
 *
 * Node hands every request with `Connection: upgrade` to the 'upgrade' listener once there is
 * one (the edge has one, for WebSocket), after detaching the socket from its HTTP parser and
 * without reading the body. So the head is written again without the upgrade offer and given,
 * with the bytes read after it, to the server's own connection handler: the body is framed,
 * limits and timeouts apply, pipelining and keep-alive work, exactly as for any request.
 */
import type { IncomingMessage } from 'node:http';
import type { Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';

type OnUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** The one protocol the edge upgrades to (edge/websocket.ts); upgrade tokens are case-insensitive (RFC 9110 §7.8). */
const WEBSOCKET_ONLY = /^[ \t]*websocket[ \t]*$/i;

/** Fields that exist only to offer the upgrade: dropped from the head served instead. */
const OFFER_FIELDS = new Set(['upgrade', 'http2-settings']);

/**
 * The 'upgrade' listener for `server`: WebSocket offers go to `onUpgrade`, anything else is
 * served as a plain request. `secure`: the server's connections are TLS sockets, whose HTTP
 * handler listens on 'secureConnection' rather than on 'connection'.
 */
export function upgradeListener(server: Server, onUpgrade: OnUpgrade, secure: boolean): OnUpgrade {
  const event = secure ? 'secureConnection' : 'connection';
  return (req, duplex, head) => {
    if (WEBSOCKET_ONLY.test(req.headers.upgrade ?? '')) return onUpgrade(req, duplex, head);
    const socket = duplex as Socket;
    socket.unshift(Buffer.concat([Buffer.from(headWithoutOffer(req), 'latin1'), head]));
    server.emit(event, socket);
  };
}

/**
 * The request head as received, less the upgrade offer: no Upgrade or HTTP2-Settings field, and
 * `upgrade` / `http2-settings` taken out of Connection. Node keeps names and values as latin1, so
 * this is byte for byte what the parser accepted (its size within maxHeaderBytes too).
 */
function headWithoutOffer(req: IncomingMessage): string {
  let head = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (OFFER_FIELDS.has(lower)) continue;
    let value = raw[i + 1]!;
    if (lower === 'connection') {
      value = value.split(',').map((t) => t.trim()).filter((t) => t !== '' && !OFFER_FIELDS.has(t.toLowerCase())).join(', ');
      if (value === '') continue;
    }
    head += `${name}: ${value}\r\n`;
  }
  return head + '\r\n';
}
