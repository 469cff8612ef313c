/**
 * The certificates of the HTTPS listener (issue 7): the default pair, the SNI pairs and the
 * client CA, loaded at start, reloaded when their files change (watch.ts) and on SIGHUP.
 *
 * Rotation never drops a connection: `server.setSecureContext()` and the SNI map only change
 * what *new* handshakes use; established connections keep the context they were made with.
 * Each pair is verified before it replaces anything (files.ts), and a pair that fails is
 * refused on its own, with a log line and a metric, while the previous one keeps serving.
 */
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { ListenerTlsConfig } from '../config/types.js';
import type { GatewayMetrics } from '../observe/metrics.js';
import { loadPair, readCaBundle, type LoadedPair, type PairFiles } from './files.js';
import { FileWatcher } from './watch.js';

/**
 * TLS 1.2 suites: ECDHE key exchange (forward secrecy) with AEAD ciphers only, Mozilla's
 * "intermediate" list and RFC 9325 §4.2. TLS 1.3 suites (RFC 8446 §9.1) are all AEAD; Node's
 * defaults are kept for them.
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Required once clients are verified, so sessions resume (OpenSSL refuses without it); ≤ 32 bytes. */
const SESSION_ID_CONTEXT = 'portcullis';

export interface TlsDeps {
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Sets the default context on the server (`server.setSecureContext`). */
  readonly applyDefault: (options: SecureContextOptions) => void;
  /** The server's current session-ticket keys, kept across rotations so sessions resume. */
  readonly ticketKeys: () => Buffer;
  /** Test hook: watcher timings. */
  readonly watch?: { debounceMs?: number; pollMs?: number };
}

/**
 * `portcullis check`: loads every file of the HTTPS listener as startup would and describes
 * each certificate; throws TlsFileError (or OpenSSL's error) on the first one that would stop it.
 */
export async function checkListenerFiles(cfg: ListenerTlsConfig): Promise<string[]> {
  const ca = cfg.clientCa === undefined ? undefined : await readCaBundle(cfg.clientCa);
  const lines: string[] = [];
  const pairs = [{ name: 'default', cert: cfg.cert, key: cfg.key }, ...cfg.certificates.map((c) => ({ name: c.hosts.join(' '), cert: c.cert, key: c.key }))];
  for (const p of pairs) {
    const pair = await loadPair(p);
    createSecureContext({ cert: pair.cert, key: pair.key, ...(ca === undefined ? {} : { ca }), minVersion: cfg.minVersion, ciphers: TLS12_CIPHERS });
    const expired = pair.notAfter.getTime() < Date.now() ? ' (EXPIRED)' : '';
    lines.push(`  https ${p.name}: ${pair.subject}, valid until ${pair.notAfter.toISOString()}${expired}`);
  }
  return lines;
}

interface Slot {
  /** 'default', or the first host of an SNI entry: the log and metric label. */
  readonly name: string;
  readonly files: PairFiles;
  readonly hosts: readonly string[];
  pair: LoadedPair | null;
  context: SecureContext | null;
  /** cert+key of the last refused attempt, so an unchanged broken pair is not logged again. */
  refused: string | null;
}

const sameBytes = (a: Buffer | null, b: Buffer | null): boolean => (a === null ? b === null : b !== null && a.equals(b));

export class ListenerCertificates {
  readonly #deps: TlsDeps;
  #cfg: ListenerTlsConfig;
  #slots: Slot[] = [];
  #ca: Buffer | null = null;
  #bySni = new Map<string, SecureContext>();
  #watcher: FileWatcher | null = null;

  constructor(cfg: ListenerTlsConfig, deps: TlsDeps) {
    this.#cfg = cfg;
    this.#deps = deps;
  }

  /** Startup: everything must load, or the listener does not start. */
  async start(): Promise<void> {
    await this.#refresh(this.#cfg, true);
    await this.#watch();
  }

  /** After a file event: never throws; refusals are logged and the old pairs keep serving. */
  async reload(): Promise<void> {
    try {
      await this.#refresh(this.#cfg, false);
    } catch (err) {
      this.#deps.logger.error({ err }, 'TLS certificate reload failed; the previous certificates keep serving');
    }
  }

  /**
   * SIGHUP with a changed `listeners.https`: file paths, clientCa, minVersion and SNI entries
   * apply here; the rest needs a restart (reported by runtime.ts). Never throws; false when
   * the new settings were refused and the previous ones keep serving.
   */
  async reconfigure(cfg: ListenerTlsConfig): Promise<boolean> {
    try {
      // #refresh adopts cfg only once everything it needs has loaded.
      await this.#refresh(cfg, false);
      await this.#watch();
      return true;
    } catch (err) {
      this.#deps.logger.error({ err }, 'new TLS settings refused; the previous ones keep serving');
      return false;
    }
  }

  /** The context SNI picks for `servername`: exact name, then a one-label wildcard; else the default. */
  readonly sniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    const name = servername.toLowerCase();
    let ctx = this.#bySni.get(name);
    if (ctx === undefined) {
      const dot = name.indexOf('.');
      if (dot > 0) ctx = this.#bySni.get('*' + name.slice(dot));
    }
    cb(null, ctx);
  };

  /** The certificate currently served by default (tests, logs). */
  get current(): LoadedPair | null {
    return this.#slots[0]?.pair ?? null;
  }

  /** Resolves once the reloads triggered so far are done (tests). */
  async settled(): Promise<void> {
    await this.#watcher?.settled();
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = null;
  }

  async #watch(): Promise<void> {
    this.#watcher?.close();
    const cfg = this.#cfg;
    const paths = [cfg.cert, cfg.key, ...cfg.certificates.flatMap((c) => [c.cert, c.key])];
    if (cfg.clientCa !== undefined) paths.push(cfg.clientCa);
    const watcher = new FileWatcher(paths, () => this.reload(), { logger: this.#deps.logger, ...this.#deps.watch });
    this.#watcher = watcher;
    await watcher.start();
  }

  /**
   * Reads every file of `cfg`, verifies what changed and swaps it in. `strict` (startup) throws
   * on the first problem; otherwise each refused pair keeps its previous state.
   */
  async #refresh(cfg: ListenerTlsConfig, strict: boolean): Promise<void> {
    const { logger, metrics } = this.#deps;
    let ca = this.#ca;
    if (cfg.clientCa === undefined) ca = null;
    else {
      try {
        ca = await readCaBundle(cfg.clientCa);
      } catch (err) {
        if (strict || this.#ca === null) throw err;
        logger.error({ file: cfg.clientCa, reason: (err as Error).message }, 'new client CA bundle refused; the previous one keeps verifying');
        metrics.tlsReloadsTotal.labels('clientCa', 'rejected').inc();
      }
    }
    const caChanged = !sameBytes(ca, this.#ca);
    if (caChanged && this.#ca !== null) metrics.tlsReloadsTotal.labels('clientCa', 'ok').inc();

    const previous = new Map(this.#slots.map((s) => [s.files.cert + '\n' + s.files.key, s]));
    const wanted: { name: string; files: PairFiles; hosts: readonly string[] }[] = [
      { name: 'default', files: { cert: cfg.cert, key: cfg.key }, hosts: [] },
      ...cfg.certificates.map((c) => ({ name: c.hosts[0]!, files: { cert: c.cert, key: c.key }, hosts: c.hosts })),
    ];
    const optionsChanged = this.#slots.length === 0 || caChanged || cfg.minVersion !== this.#cfg.minVersion;
    const slots: Slot[] = [];
    for (const w of wanted) {
      const before = previous.get(w.files.cert + '\n' + w.files.key);
      const slot: Slot = { name: w.name, files: w.files, hosts: w.hosts, pair: before?.pair ?? null, context: before?.context ?? null, refused: before?.refused ?? null };
      slots.push(slot);
      await this.#refreshSlot(slot, cfg, ca, optionsChanged, strict);
    }
    const defaultSlot = slots[0]!;
    if (defaultSlot.pair === null) throw new Error(`the default certificate ${cfg.cert} could not be loaded`);
    // A new SNI entry whose pair was refused has nothing to serve: its names fall back to the default.
    this.#ca = ca;
    this.#cfg = cfg;
    const defaultChanged = this.#slots[0]?.pair !== defaultSlot.pair || optionsChanged;
    // An SNI entry removed on reload no longer has an expiry to alert on.
    for (const old of this.#slots) if (!slots.some((s) => s.name === old.name)) metrics.tlsCertificateExpiry.remove(old.name);
    this.#slots = slots;
    if (defaultChanged) this.#deps.applyDefault(this.#options(defaultSlot.pair, caChanged));
    const bySni = new Map<string, SecureContext>();
    for (const s of slots.slice(1)) if (s.context !== null) for (const h of s.hosts) bySni.set(h, s.context);
    this.#bySni = bySni;
  }

  async #refreshSlot(slot: Slot, cfg: ListenerTlsConfig, ca: Buffer | null, optionsChanged: boolean, strict: boolean): Promise<void> {
    const { logger, metrics } = this.#deps;
    let pair: LoadedPair;
    try {
      pair = await loadPair(slot.files);
    } catch (err) {
      if (strict) throw err;
      this.#refuse(slot, (err as Error).message, null);
      return;
    }
    const unchanged = slot.pair !== null && slot.pair.cert.equals(pair.cert) && slot.pair.key.equals(pair.key);
    if (unchanged && !optionsChanged) {
      slot.refused = null;
      return;
    }
    let context: SecureContext;
    try {
      // OpenSSL's own check of the pair and chain, and of the options (minVersion, ciphers).
      context = createSecureContext(this.#contextOptions(pair, ca, cfg));
    } catch (err) {
      if (strict) throw err;
      this.#refuse(slot, (err as Error).message, pair);
      return;
    }
    const first = slot.pair === null;
    slot.pair = pair;
    slot.context = context;
    slot.refused = null;
    if (!unchanged || first) {
      if (!first) metrics.tlsReloadsTotal.labels(slot.name, 'ok').inc();
      metrics.tlsCertificateExpiry.labels(slot.name).set(Math.floor(pair.notAfter.getTime() / 1000));
      const fields = { certificate: slot.name, subject: pair.subject, notAfter: pair.notAfter.toISOString(), fingerprint256: pair.fingerprint256 };
      logger.info(fields, first ? 'TLS certificate loaded' : 'TLS certificate rotated');
      if (pair.notAfter.getTime() < Date.now()) logger.warn(fields, 'TLS certificate is expired; clients will refuse it');
    }
  }

  #refuse(slot: Slot, reason: string, pair: LoadedPair | null): void {
    const attempt = pair === null ? reason : pair.cert.toString('latin1') + pair.key.toString('latin1');
    if (slot.refused === attempt) return;
    slot.refused = attempt;
    this.#deps.metrics.tlsReloadsTotal.labels(slot.name, 'rejected').inc();
    const keeps = slot.pair === null ? 'its names are served the default certificate' : 'the previous one keeps serving';
    this.#deps.logger.error({ certificate: slot.name, cert: slot.files.cert, key: slot.files.key, reason }, `new TLS certificate refused; ${keeps}`);
  }

  #contextOptions(pair: LoadedPair, ca: Buffer | null, cfg: ListenerTlsConfig): SecureContextOptions {
    return {
      cert: pair.cert,
      key: pair.key,
      ...(ca === null ? {} : { ca }),
      minVersion: cfg.minVersion,
      ciphers: `${TLS12_CIPHERS}:TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256`,
      sessionIdContext: SESSION_ID_CONTEXT,
    };
  }

  /**
   * Options for `server.setSecureContext`, which rebuilds from scratch: everything is passed
   * every time. Ticket keys are kept so clients resume across a rotation — except when the client
   * CA changed, where a resumed session would skip verifying against the new CA.
   */
  #options(pair: LoadedPair, caChanged: boolean): SecureContextOptions {
    const options = this.#contextOptions(pair, this.#ca, this.#cfg);
    if (!caChanged) options.ticketKeys = this.#deps.ticketKeys();
    return options;
  }
}
