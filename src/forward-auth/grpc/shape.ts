/**
 * The forward-auth shape over gRPC (issue 19 item 4): what `listeners.authGrpc`
 * (server/auth-grpc-listener.ts) hands its connections to. One grpc-js server per listener,
 * never bound to a port itself: the listener accepts (and terminates TLS), grpc-js speaks HTTP/2
 * on the connection (createConnectionInjector). It serves one method,
 * envoy.service.auth.v3.Authorization/Check; any other path is grpc-js's UNIMPLEMENTED.
 */
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { GatewayHolder } from '../../pipeline/gateway.js';
import type { ConnectionShape } from '../../server/listener.js';
import { GrpcCheck } from './check.js';
import type { CheckRequestMessage, CheckResponseMessage } from './messages.js';
import { authorizationService, grpcJs } from './protos.js';

/**
 * A Check request carries the original request's headers (60 KiB in Envoy by default,
 * max_request_headers_kb) and no body (with_request_body off): 1 MiB bounds a message with room
 * to spare; a larger one is refused by grpc-js (RESOURCE_EXHAUSTED) before it is decoded.
 */
const MAX_CHECK_REQUEST_BYTES = 1 << 20;

/** The TLS version of a connection the listener terminated (TLSv1.3 …), as the access log writes it; null in clear text. */
function tlsProtocolOf(socket: Duplex): string | null {
  const tls = socket as Partial<TLSSocket>;
  return tls.encrypted === true ? (tls.getProtocol?.() ?? 'tls') : null;
}

export const grpcAuthShape: ConnectionShape = (holder: GatewayHolder) => {
  const { Server, ServerCredentials } = grpcJs();
  const server = new Server({
    'grpc.max_receive_message_length': MAX_CHECK_REQUEST_BYTES,
    'grpc.max_send_message_length': MAX_CHECK_REQUEST_BYTES,
  });
  // The TLS version of each live connection by its peer `address:port` — what a call's getPeer()
  // returns, since a call cannot reach its socket. Bounded by the open connections.
  const tlsByPeer = new Map<string, string>();
  const check = (call: ServerUnaryCall<CheckRequestMessage, CheckResponseMessage>, callback: sendUnaryData<CheckResponseMessage>): void => {
    const gateway = holder.current;
    gateway.acquire();
    new GrpcCheck(call, callback, gateway, tlsByPeer.get(call.getPeer()) ?? null).run();
  };
  server.addService(authorizationService(), { Check: check });
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  let draining = false;
  return {
    onConnection: (socket: Duplex): void => {
      const tls = tlsProtocolOf(socket);
      if (tls !== null) {
        const s = socket as TLSSocket;
        const peer = `${s.remoteAddress}:${s.remotePort}`;
        tlsByPeer.set(peer, tls);
        s.once('close', () => tlsByPeer.delete(peer));
      }
      injector.injectConnection(socket);
    },
    goAway: (): void => {
      if (draining) return;
      draining = true;
      // runtime.ts's own grace period ends the drain (closeAllConnections); this timer only backs it up.
      injector.drain(holder.current.config.server.shutdownGraceMs);
    },
  };
};
