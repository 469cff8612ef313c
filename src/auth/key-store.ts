/**
 * One provider's verification keys over time (PRODUCT §1.7, §6 /readyz).
 *
 * Written on jose's primitives rather than `createRemoteJWKSet` because the
 * gateway needs control that one does not give:
 * - keys are refreshed in the background when their max-age runs out, so no
 *   request waits for the IdP in the normal case;
 * - a token with an unknown `kid` may trigger a refetch (key rotation), but at
 *   most one per `jwksCooldownSec`, and concurrent misses share the fetch in
 *   flight: a client spraying random kids cannot make us hammer the IdP;
 * - when the IdP is unreachable the keys we have keep working
 *   (stale-if-error, RFC 5861 §4 in spirit); the failure is logged, counted
 *   in portcullis_jwks_refreshes_total{result="error"} and retried with backoff;
 * - until the first successful load the store is not ready (/readyz 503), but
 *   startup never waits for it.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Resource } from '../contract/types.js';
import type { GatewayMetrics } from '../observe/metrics.js';
import type { Tracing } from '../observe/tracing/tracing.js';
import { traced } from './traced.js';
import type { JwksFetcher } from './jwks-fetch.js';
import { importJwks, type KeySet, type SkippedKey } from './key-set.js';

/** What a provider reads its keys from: a KeyStore, or the fixed secret of an HS* provider. */
export interface KeySource {
  current(): KeySet | null;
  /**
   * A refresh worth waiting for after a key lookup missed: the one in flight, or a new one
   * when the cooldown allows; null when the caller must make do with current().
   */
  refreshForUnknownKid(): Promise<void> | null;
}

/** An HS* provider's secret: always loaded, nothing to refresh. */
export class StaticKeys implements KeySource {
  readonly #keys: KeySet;

  constructor(keys: KeySet) {
    this.#keys = keys;
  }

  current(): KeySet {
    return this.#keys;
  }

  refreshForUnknownKid(): null {
    return null;
  }
}

export interface KeyStoreOptions {
  readonly provider: string;
  /** Identifies where the keys come from; equal keys mean a reload may carry the keys over. */
  readonly sourceKey: string;
  readonly fetcher: JwksFetcher;
  readonly cooldownSec: number;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** JWKS fetches become root CLIENT spans (shared by every request waiting on them). */
  readonly tracing?: Tracing;
  /** Retry backoff after a failed fetch: first delay and cap, in ms. */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
}

const RETRY_INITIAL_MS = 500;
const RETRY_MAX_MS = 30_000;

export class KeyStore implements KeySource, Resource {
  readonly name: string;
  readonly provider: string;
  readonly sourceKey: string;
  readonly #fetcher: JwksFetcher;
  readonly #tracing: Tracing | null;
  readonly #cooldownMs: number;
  readonly #logger: Logger;
  readonly #metrics: GatewayMetrics;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;
  readonly #abort = new AbortController();
  #keys: KeySet | null = null;
  #fingerprint = '';
  #inflight: Promise<void> | null = null;
  #lastOnDemandMs = Number.NEGATIVE_INFINITY;
  #nextRefreshAtMs = 0;
  #failures = 0;
  #lastError: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(opts: KeyStoreOptions) {
    this.provider = opts.provider;
    this.name = `jwks:${opts.provider}`;
    this.sourceKey = opts.sourceKey;
    this.#fetcher = opts.fetcher;
    this.#tracing = opts.tracing ?? null;
    this.#cooldownMs = opts.cooldownSec * 1000;
    this.#logger = opts.logger;
    this.#metrics = opts.metrics;
    this.#retryInitialMs = opts.retryInitialMs ?? RETRY_INITIAL_MS;
    this.#retryMaxMs = opts.retryMaxMs ?? RETRY_MAX_MS;
  }

  /**
   * Begins loading in the background. With `previous` (same source, from the config being
   * replaced), its keys serve at once and its refresh schedule continues: a reload neither
   * refetches nor makes a single token fail while it would.
   */
  start(previous: KeyStore | null = null): void {
    if (previous !== null && previous.#keys !== null) {
      this.#keys = previous.#keys;
      this.#fingerprint = previous.#fingerprint;
      this.#lastOnDemandMs = previous.#lastOnDemandMs;
      this.#nextRefreshAtMs = previous.#nextRefreshAtMs;
      this.#schedule(Math.max(0, previous.#nextRefreshAtMs - Date.now()));
      return;
    }
    this.#background();
  }

  current(): KeySet | null {
    return this.#keys;
  }

  notReadyReason(): string | null {
    if (this.#keys !== null) return null;
    return this.#lastError === null ? 'signing keys not loaded yet' : `signing keys not loaded yet: ${this.#lastError}`;
  }

  refreshForUnknownKid(): Promise<void> | null {
    if (this.#inflight !== null) return this.#inflight;
    if (this.#closed) return null;
    const now = Date.now();
    if (now - this.#lastOnDemandMs < this.#cooldownMs) return null;
    this.#lastOnDemandMs = now;
    return this.#begin();
  }

  /** Starts a fetch unless one is in flight; the promise never rejects. */
  #begin(): Promise<void> {
    if (this.#inflight === null) {
      this.#clearTimer();
      this.#inflight = this.#load().finally(() => { this.#inflight = null; });
    }
    return this.#inflight;
  }

  async #load(): Promise<void> {
    try {
      const span = this.#tracing === null ? null : this.#tracing.startBackground('jwks fetch', { 'portcullis.provider': this.provider, 'portcullis.jwks.source': this.#fetcher.location });
      const fetched = await traced(span, this.#fetcher.fetch(this.#abort.signal, span));
      const fingerprint = createHash('sha256').update(JSON.stringify(fetched.doc)).digest('base64');
      if (this.#keys === null || fingerprint !== this.#fingerprint) {
        const skipped: SkippedKey[] = [];
        const keys = await importJwks(fetched.doc, skipped);
        if (this.#closed) return;
        const first = this.#keys === null;
        // A new KeySet object: verified-token cache entries made with the old one stop matching.
        this.#keys = keys;
        this.#fingerprint = fingerprint;
        this.#logger.info(
          { provider: this.provider, source: this.#fetcher.location, kids: keys.kids, keys: keys.size, skipped },
          first ? 'signing keys loaded' : 'signing keys changed',
        );
      }
      if (this.#closed) return;
      this.#metrics.jwksRefreshesTotal.labels(this.provider, 'success').inc();
      this.#failures = 0;
      this.#lastError = null;
      this.#nextRefreshAtMs = Date.now() + fetched.maxAgeSec * 1000;
      this.#schedule(fetched.maxAgeSec * 1000);
    } catch (err) {
      if (this.#closed) return;
      this.#failures++;
      this.#lastError = err instanceof Error ? err.message : String(err);
      this.#metrics.jwksRefreshesTotal.labels(this.provider, 'error').inc();
      const retryMs = this.#backoffMs();
      this.#logger.warn(
        { provider: this.provider, source: this.#fetcher.location, err: this.#lastError, failures: this.#failures, retryMs, servingCachedKeys: this.#keys !== null },
        this.#keys === null ? 'signing keys could not be loaded' : 'signing key refresh failed; the cached keys stay in use',
      );
      this.#schedule(retryMs);
    }
  }

  /** Exponential, capped, with ±20 % jitter so a fleet of gateways does not retry in step. */
  #backoffMs(): number {
    const base = Math.min(this.#retryMaxMs, this.#retryInitialMs * 2 ** Math.min(this.#failures - 1, 20));
    return Math.round(base * (0.8 + 0.4 * Math.random()));
  }

  #schedule(ms: number): void {
    this.#clearTimer();
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#background();
    }, ms);
    this.#timer.unref();
  }

  /** A load nobody awaits. #load catches, logs and counts its own failures; this catch is for bugs. */
  #background(): void {
    this.#begin().catch((err: unknown) => {
      this.#metrics.internalErrorsTotal.labels('auth').inc();
      this.#logger.error({ provider: this.provider, err }, 'signing key refresh crashed');
    });
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#clearTimer();
    this.#abort.abort();
    await this.#fetcher.close();
  }
}
