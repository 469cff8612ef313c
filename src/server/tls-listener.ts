/**
 * The TLS side of a listener, shared by `listeners.https` (https-listener.ts, the edge) and
 * `listeners.auth` (auth-listener.ts) — one implementation of the keys both accept
 * (`cert`, `key`, `minVersion`, `clientCa`, `requireClientCert`; PRODUCT §8): the server
 * options, the certificates (tls/certificates.ts: loaded before listen, rotated in place), the handshake
 * events (failures counted, nothing written in clear text before the handshake completed),
 * and what a reload changes in place.
 */
import type { Socket } from 'node:net';
import type { SecureContext, SecureContextOptions, Server as TlsServer, TLSSocket, TlsOptions } from 'node:tls';
import type { LimitsConfig, ListenerTlsConfig } from '../config/types.js';
import type { GatewayHolder } from '../pipeline/gateway.js';
import { handleClientError } from './client-error.js';
import { ListenerCertificates, TLS12_CIPHERS } from '../tls/certificates.js';
import { recordClientCert } from '../tls/identity.js';
import type { Hsts } from '../tls/hsts.js';
import { handshakeReason, setHandshakeTimeout } from '../tls/https-options.js';

const kSecured = Symbol('portcullis.tlsEstablished');

/** What ListenerTls needs of the server: a tls.Server that can swap its default context. */
export type SecureServer = TlsServer & { setSecureContext(options: SecureContextOptions): void; getTicketKeys(): Buffer };

export interface ListenerTlsOptions {
  /**
   * Keep the verified client certificate for the pipeline (route `auth.clientCert`, `cert.*`
   * identity headers). The edge does; the auth listener does not: there the certificate is the
   * proxy's, which authenticates the caller, not the user whose request is decided.
   */
  readonly recordClientCerts: boolean;
  /** HSTS on clear-text error answers after the handshake (the edge only). */
  readonly hsts: Hsts | null;
}

export class ListenerTls {
  /** Options for the server constructor (https.createServer, http2.createSecureServer). */
  readonly options: TlsOptions & { noDelay: boolean };
  readonly #holder: GatewayHolder;
  readonly #opts: ListenerTlsOptions;
  readonly #cfg: ListenerTlsConfig;
  #certs: ListenerCertificates | null = null;
  #server: SecureServer | null = null;
  #verifyClients: boolean;
  #handshakeTimeoutMs: number;

  constructor(holder: GatewayHolder, cfg: ListenerTlsConfig, limits: LimitsConfig, opts: ListenerTlsOptions) {
    this.#holder = holder;
    this.#opts = opts;
    this.#verifyClients = cfg.clientCa !== undefined;
    this.#handshakeTimeoutMs = limits.headersTimeoutMs;
    this.options = {
      SNICallback: (name: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => this.#certs!.sniCallback(name, cb),
      requestCert: cfg.clientCa !== undefined,
      rejectUnauthorized: cfg.requireClientCert,
      minVersion: cfg.minVersion,
      ciphers: TLS12_CIPHERS,
      // A client that never finishes its handshake is a slowloris too.
      handshakeTimeout: limits.headersTimeoutMs,
      noDelay: true,
    };
    this.#cfg = cfg;
  }

  /** Wires the certificates and the handshake events to the server built with `options`. */
  attach(server: SecureServer): void {
    const { logger, metrics } = this.#holder.current;
    this.#server = server;
    this.#certs = new ListenerCertificates(this.#cfg, {
      logger,
      metrics,
      applyDefault: (options) => server.setSecureContext(options),
      ticketKeys: () => server.getTicketKeys(),
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      (socket as unknown as Record<symbol, boolean>)[kSecured] = true;
      if (this.#verifyClients && this.#opts.recordClientCerts) recordClientCert(socket);
    });
    server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
      metrics.tlsHandshakeFailuresTotal.labels(handshakeReason(err.code)).inc();
      if (logger.isLevelEnabled('debug')) logger.debug({ code: err.code ?? null, clientIp: socket.remoteAddress ?? null }, 'TLS handshake failed');
    });
    server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
      // Before the handshake completed (Http2SecureServer reports those here too) nothing may be
      // written in clear text: the failure was counted by 'tlsClientError'.
      if ((socket as unknown as Record<symbol, boolean | undefined>)[kSecured] !== true) socket.destroy();
      else handleClientError(this.#holder, err, socket, this.#opts.hsts);
    });
  }

  /** Before listen: every certificate must load, or the listener does not start. */
  start(): Promise<void> {
    return this.#certs!.start();
  }

  /**
   * SIGHUP: the handshake timeout, certificate files, client CA and client-certificate policy
   * apply in place (to new handshakes; established connections keep theirs). Never rejects.
   */
  async reconfigure(next: ListenerTlsConfig, limits: LimitsConfig): Promise<void> {
    const server = this.#server!;
    if (limits.headersTimeoutMs !== this.#handshakeTimeoutMs) {
      if (!setHandshakeTimeout(server, limits.headersTimeoutMs)) {
        this.#holder.current.logger.warn({ headersTimeoutMs: limits.headersTimeoutMs }, 'server.limits.headersTimeoutMs changed: the TLS handshake timeout takes it on restart, not on reload');
      }
      this.#handshakeTimeoutMs = limits.headersTimeoutMs;
    }
    if (!(await this.#certs!.reconfigure(next))) return;
    // Read per connection by tls.Server: new handshakes follow, established ones keep theirs.
    Object.assign(server, { requestCert: next.clientCa !== undefined, rejectUnauthorized: next.requireClientCert });
    this.#verifyClients = next.clientCa !== undefined;
  }

  close(): void {
    this.#certs?.close();
  }
}
