/**
 * The endpoints of a sign-in provider, from its discovery document (OpenID Connect Discovery 1.0
 * §3, §4): authorization_endpoint, token_endpoint, end_session_endpoint (RP-Initiated Logout 1.0)
 * and the token endpoint's auth methods. A gateway Resource: loaded in the background at start
 * (/readyz waits for it), refreshed hourly, retried with backoff when the IdP is away; the last
 * good document keeps serving meanwhile. The document's `issuer` must equal the configured one
 * exactly (§4.3), as for the JWKS.
 *
 * With tracing on, each fetch is a root `oidc discovery` span (docs/tracing.md), like the JWKS
 * fetches': no request owns it. A document that fails the checks fails the span.
 */
import type { Agent } from 'undici';
import type { Logger } from 'pino';
import type { Resource } from '../contract/types.js';
import { DEFAULT_FETCH_LIMITS, discoveryLocation, getJson, newAgent } from '../auth/jwks-fetch.js';
import { traced } from '../auth/traced.js';
import type { Tracing } from '../observe/tracing/tracing.js';

export interface ProviderEndpoints {
  readonly authorization: string;
  readonly token: string;
  readonly endSession: string | null;
  /** token_endpoint_auth_methods_supported; absent means client_secret_basic (Discovery §3). */
  readonly authMethods: readonly string[];
}

const REFRESH_MS = 60 * 60 * 1000;
const RETRY_INITIAL_MS = 500;
const RETRY_MAX_MS = 30_000;
const HTTP_URL = /^https?:\/\//i;

function urlField(meta: Record<string, unknown>, name: string, required: boolean, where: string): string | null {
  const v = meta[name];
  if (v === undefined && !required) return null;
  if (typeof v !== 'string' || !HTTP_URL.test(v) || !URL.canParse(v)) throw new Error(`${where}: "${name}" is missing or not an http(s) URL`);
  return v;
}

export class ProviderMetadata implements Resource {
  readonly name: string;
  readonly location: string;
  readonly #provider: string;
  readonly #issuer: string;
  readonly #logger: Logger;
  readonly #tracing: Tracing | null;
  readonly #agent: Agent = newAgent(DEFAULT_FETCH_LIMITS);
  readonly #abort = new AbortController();
  #endpoints: ProviderEndpoints | null = null;
  #lastError: string | null = null;
  #failures = 0;
  #timer: NodeJS.Timeout | null = null;
  #inflight: Promise<void> | null = null;

  constructor(provider: string, issuer: string, logger: Logger, tracing: Tracing | null = null) {
    this.name = `oidc-metadata:${provider}`;
    this.#provider = provider;
    this.#issuer = issuer;
    this.location = discoveryLocation(issuer);
    this.#logger = logger;
    this.#tracing = tracing;
  }

  start(): void {
    void this.load();
  }

  get endpoints(): ProviderEndpoints | null {
    return this.#endpoints;
  }

  notReadyReason(): string | null {
    if (this.#endpoints !== null) return null;
    return this.#lastError === null ? 'discovery document not loaded yet' : `discovery document not loaded yet: ${this.#lastError}`;
  }

  /** One fetch at a time; resolves when it settled (never rejects). */
  load(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => { this.#inflight = null; });
    return this.#inflight;
  }

  async #fetch(): Promise<void> {
    try {
      const span = this.#tracing === null ? null : this.#tracing.startBackground('oidc discovery', {
        'portcullis.provider': this.#provider, 'portcullis.discovery.for': 'sign-in', 'url.full': this.location,
      });
      this.#endpoints = await traced(span, this.#read());
      this.#failures = 0;
      this.#lastError = null;
      this.#schedule(REFRESH_MS);
    } catch (err) {
      if (this.#abort.signal.aborted) return;
      this.#failures++;
      this.#lastError = err instanceof Error ? err.message : String(err);
      this.#logger.warn({ resource: this.name, err: this.#lastError }, 'OIDC discovery failed; retrying');
      this.#schedule(Math.min(RETRY_MAX_MS, RETRY_INITIAL_MS * 2 ** Math.min(this.#failures - 1, 10)));
    }
  }

  /** The document, fetched and checked; throws (naming the URL, never quoting the body) when it will not do. */
  async #read(): Promise<ProviderEndpoints> {
    const { doc } = await getJson(this.#agent, this.location, this.#abort.signal, DEFAULT_FETCH_LIMITS);
    const meta = doc !== null && typeof doc === 'object' ? (doc as Record<string, unknown>) : {};
    if (meta['issuer'] !== this.#issuer) throw new Error(`${this.location}: "issuer" does not equal the configured issuer`);
    const methods = meta['token_endpoint_auth_methods_supported'];
    const endpoints = Object.freeze({
      authorization: urlField(meta, 'authorization_endpoint', true, this.location)!,
      token: urlField(meta, 'token_endpoint', true, this.location)!,
      endSession: urlField(meta, 'end_session_endpoint', false, this.location),
      authMethods: Array.isArray(methods) ? methods.filter((m): m is string => typeof m === 'string') : ['client_secret_basic'],
    });
    const pkce = meta['code_challenge_methods_supported'];
    if (Array.isArray(pkce) && !pkce.includes('S256')) {
      this.#logger.warn({ provider: this.name }, 'discovery does not list PKCE S256; sign-in sends it anyway');
    }
    return endpoints;
  }

  #schedule(ms: number): void {
    if (this.#abort.signal.aborted) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => { void this.load(); }, ms);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    this.#abort.abort();
    if (this.#timer !== null) clearTimeout(this.#timer);
    await this.#agent.destroy();
  }
}
