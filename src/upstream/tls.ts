/**
 * TLS towards https:// upstreams (issue 7; route `upstream.tls`, docs/tls.md).
 *
 * Server-name checking: undici (and Node's https agent, used for WebSocket upgrades) take the
 * TLS server name from the request's Host header when none is given — here the *client's*
 * Host, which the gateway forwards. That would verify the upstream's certificate against a
 * name the client chose (and reconnect whenever it changed), so every https target gets a
 * fixed name: `tls.serverName`, else the target URL's host name. An IP literal sends no SNI
 * (RFC 6066 §3) and is checked against the certificate's IP SANs.
 *
 * The CA bundle and client certificate are read asynchronously once per config (compile is
 * synchronous and runs on SIGHUP: STYLE §3), watched like the listener's, and compiled into
 * one SecureContext shared by every connection, instead of OpenSSL parsing the bundle again
 * on each connect. Until they are read the gateway is not ready (/readyz), and connections
 * wait for them.
 */
import { Agent as HttpsAgent } from 'node:https';
import { isIP } from 'node:net';
import { connect as tlsConnect, createSecureContext, type ConnectionOptions, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { buildConnector } from 'undici';
import type { UpstreamTlsConfig } from '../config/types.js';
import type { Resource } from '../contract/types.js';
import { readCaBundle, readPair, verifyPair } from '../tls/files.js';
import { FileWatcher } from '../tls/watch.js';

const CONNECT_TIMEOUT_MS = 5_000;

/** What one https target needs: a connector for its undici Pool and an agent for WebSocket upgrades. */
export interface TargetTls {
  /** Constant per target, passed with every dispatch so undici never derives one from Host. */
  readonly servername: string;
  readonly connect: buildConnector.connector;
  /** A fresh https.Agent with the current context (WebSocket upgrades through http-proxy-3). */
  agent(): HttpsAgent;
}

/** One route's `upstream.tls` (or its absence: system CAs, name checking on). */
export class UpstreamTls implements Resource {
  readonly name: string;
  readonly #cfg: UpstreamTlsConfig | null;
  readonly #logger: Logger;
  #context: SecureContext | null = null;
  #error: Error | null = null;
  #ready: Promise<void>;
  #watcher: FileWatcher | null = null;
  #closed = false;
  /** Bumped on every new context, so connectors rebuild theirs. */
  #generation = 0;

  constructor(route: string, cfg: UpstreamTlsConfig | null, logger: Logger) {
    this.name = `upstream TLS of route ${route}`;
    this.#cfg = cfg;
    this.#logger = logger.child({ route });
    if (cfg !== null && !cfg.rejectUnauthorized) {
      this.#logger.warn('upstream.tls.rejectUnauthorized is false: the upstream certificate is not verified');
    }
    this.#ready = this.#hasFiles() ? this.#start() : Promise.resolve();
  }

  notReadyReason(): string | null {
    if (!this.#hasFiles() || this.#context !== null) return null;
    return this.#error === null ? 'loading CA and client certificate' : this.#error.message;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
  }

  forTarget(url: URL): TargetTls {
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    // undefined lets Node check an IP literal against IP SANs without sending it as SNI.
    const sni = this.#cfg?.serverName ?? (isIP(host) === 0 ? host : undefined);
    const rejectUnauthorized = this.#cfg?.rejectUnauthorized ?? true;
    let generation = -1;
    let inner: buildConnector.connector | null = null;
    const current = (): buildConnector.connector => {
      if (inner === null || generation !== this.#generation) {
        generation = this.#generation;
        const context = this.#context;
        inner = buildConnector({ timeout: CONNECT_TIMEOUT_MS, rejectUnauthorized, ...(context === null ? {} : { secureContext: context }) });
      }
      return inner;
    };
    const connect: buildConnector.connector = (opts, cb) => {
      const options = { ...opts, servername: sni };
      if (!this.#hasFiles() || this.#context !== null) return current()(options, cb);
      this.#ready.then(
        () => (this.#context === null ? cb(this.#error ?? new Error('upstream TLS files not loaded'), null) : current()(options, cb)),
        (err: unknown) => cb(err as Error, null),
      );
    };
    return {
      servername: sni ?? host,
      connect,
      agent: () => this.#agent(sni, rejectUnauthorized),
    };
  }

  /**
   * An https.Agent for http-proxy-3 (WebSocket upgrades). Its connections wait for the files as
   * the undici connector's do, and use the context current when they are made.
   */
  #agent(sni: string | undefined, rejectUnauthorized: boolean): HttpsAgent {
    // '' stops Node from taking the server name from the (client's) Host header.
    const agent = new HttpsAgent({ keepAlive: false, servername: sni ?? '', rejectUnauthorized });
    agent.createConnection = (options, cb) => {
      const open = (): void => {
        const context = this.#context;
        if (this.#hasFiles() && context === null) {
          cb?.(this.#error ?? new Error('upstream TLS files not loaded'), undefined as never);
          return;
        }
        cb?.(null, tlsConnect({ ...(options as ConnectionOptions), ...(context === null ? {} : { secureContext: context }) }));
      };
      this.#ready.then(open, (err: unknown) => cb?.(err as Error, undefined as never));
      return undefined;
    };
    return agent;
  }

  #hasFiles(): boolean {
    const c = this.#cfg;
    return c !== null && (c.ca !== undefined || c.cert !== undefined);
  }

  async #start(): Promise<void> {
    await this.#load();
    if (this.#closed) return;
    const c = this.#cfg!;
    const paths = [c.ca, c.cert, c.key].filter((p): p is string => p !== undefined);
    this.#watcher = new FileWatcher(paths, () => this.#load(), { logger: this.#logger });
    await this.#watcher.start().catch((err: unknown) => this.#logger.warn({ err }, 'cannot watch upstream TLS files'));
  }

  /** Never throws: a failure is logged and the previous context (if any) stays. */
  async #load(): Promise<void> {
    const c = this.#cfg!;
    try {
      const ca = c.ca === undefined ? undefined : await readCaBundle(c.ca);
      let pair: { cert: Buffer; key: Buffer } | undefined;
      if (c.cert !== undefined && c.key !== undefined) {
        const read = await readPair({ cert: c.cert, key: c.key });
        pair = verifyPair({ cert: c.cert, key: c.key }, read.cert, read.key);
      }
      this.#context = createSecureContext({ ...(ca === undefined ? {} : { ca }), ...(pair === undefined ? {} : { cert: pair.cert, key: pair.key }) });
      this.#generation++;
      this.#error = null;
      this.#logger.info({ ca: c.ca ?? null, cert: c.cert ?? null }, 'upstream TLS files loaded');
    } catch (err) {
      this.#error = err as Error;
      const keeps = this.#context === null ? 'connections to this upstream fail until they load' : 'the previous ones stay in use';
      this.#logger.error({ reason: (err as Error).message }, `upstream TLS files refused; ${keeps}`);
    }
  }
}
