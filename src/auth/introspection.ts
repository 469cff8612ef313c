/**
 * RFC 7662 token introspection for one provider (issue 14; PRODUCT §8
 * `introspection: { endpoint, clientId, clientSecret }`): opaque tokens, or
 * every token of the provider with `tokens: all`, are POSTed to the
 * authorisation server, which answers whether the token is active and what it
 * stands for. The response members become the identity exactly as a JWT's
 * claims do (scopes, roles, claims, identity headers, rate-limit keys).
 *
 * - Bounded cache keyed by SHA-256 of the token (never the token itself):
 *   an active answer lives until its `exp`, and never longer than `maxTtlSec`
 *   (a revocation is seen within that time); an inactive one `negativeTtlSec`.
 * - Concurrent misses for one token share one call (single flight).
 * - Every call has a deadline (`timeoutMs`). Endpoint down, slow, or answering
 *   something that is not an RFC 7662 response → 503 with Retry-After, never a
 *   pass, never a 401 that would make a client throw away a good token.
 * - The token is never logged: log lines carry the provider and the reason.
 */
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import type { ChildSpan, RequestSpan, Tracing } from '../observe/tracing/tracing.js';
import { traced } from './traced.js';
import type { IntrospectionConfig } from '../config/types.js';
import type { GatewayMetrics } from '../observe/metrics.js';
import type { Resource } from '../contract/types.js';
import { ExpiringLru } from './expiring-lru.js';
import type { VerifiedIdentity } from './identity.js';
import { discard, discoverUrl, discoveryLocation, readJsonBody } from './jwks-fetch.js';
import type { Provider } from './provider.js';
import type { InvalidTokenReason } from './responses.js';
import { tokenKey } from './token-cache.js';

/** An identity, a refusal (401), or `unavailable` (503: the endpoint could not answer). */
export type IntrospectionResult = VerifiedIdentity | InvalidTokenReason | 'unavailable';

/** Largest introspection response read, in bytes. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** Discovery of `introspection_endpoint` is retried no more often than this, in ms. */
const REDISCOVER_AFTER_MS = 5_000;

type CallResult = 'active' | 'inactive' | 'error' | 'timeout';

/** application/x-www-form-urlencoded (RFC 6749 Appendix B), as §2.3.1 wants for Basic credentials too. */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

/** Whether an error is our own deadline (AbortSignal.timeout or undici's header/body timeouts). */
function isTimeout(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return err.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
}

export class Introspector implements Resource {
  readonly name: string;
  readonly providerName: string;
  readonly tokens: 'opaque' | 'all';
  readonly #provider: Provider;
  readonly #cfg: IntrospectionConfig;
  readonly #logger: Logger;
  readonly #tracing: Tracing | null;
  readonly #agent: Agent;
  readonly #cache: ExpiringLru<IntrospectionResult>;
  readonly #inflight = new Map<string, Promise<IntrospectionResult>>();
  readonly #calls: Readonly<Record<CallResult, { inc(): void }>>;
  /** Built once: `Authorization: Basic …` or the form members of client_secret_post. */
  readonly #authorization: string | null;
  readonly #formCredentials: string;
  #endpoint: string | null;
  #discovering: Promise<string | null> | null = null;
  #discoveryFailedAt = 0;

  constructor(provider: Provider, cfg: IntrospectionConfig, discovery: boolean, deps: { logger: Logger; metrics: GatewayMetrics; tracing?: Tracing }) {
    this.name = `introspection:${provider.name}`;
    this.providerName = provider.name;
    this.tokens = cfg.tokens;
    this.#provider = provider;
    this.#cfg = cfg;
    this.#logger = deps.logger;
    this.#tracing = deps.tracing ?? null;
    this.#agent = new Agent({ connect: { timeout: cfg.timeoutMs }, keepAliveTimeout: 10_000, connections: 32 });
    this.#cache = new ExpiringLru(cfg.maxEntries);
    const calls = deps.metrics.introspectionRequestsTotal;
    this.#calls = Object.freeze({
      active: calls.labels(provider.name, 'active'),
      inactive: calls.labels(provider.name, 'inactive'),
      error: calls.labels(provider.name, 'error'),
      timeout: calls.labels(provider.name, 'timeout'),
    });
    // RFC 6749 §2.3.1: Basic credentials are the form-encoded id and secret.
    const basic = Buffer.from(`${formEncode(cfg.clientId)}:${formEncode(cfg.clientSecret)}`).toString('base64');
    this.#authorization = cfg.authMethod === 'client_secret_basic' ? `Basic ${basic}` : null;
    this.#formCredentials = cfg.authMethod === 'client_secret_post'
      ? `&client_id=${formEncode(cfg.clientId)}&client_secret=${formEncode(cfg.clientSecret)}`
      : '';
    this.#endpoint = cfg.endpoint ?? null;
    // Discover ahead of the first opaque token, so it does not wait for the IdP.
    if (this.#endpoint === null && discovery) void this.#discover();
  }

  /**
   * The cached answer synchronously, else the (shared) call. `trace`: the request's span; a call it
   * starts gets a CLIENT span under it (shared callers wait on that one).
   */
  introspect(token: string, nowMs: number, trace?: RequestSpan | null): IntrospectionResult | Promise<IntrospectionResult> {
    const key = tokenKey(token);
    const hit = this.#cache.get(key, nowMs);
    if (hit !== null) return hit;
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      // Entries live one call at most (bounded by timeoutMs), so the map is bounded by concurrency.
      const span = trace ? trace.child('introspection', { 'portcullis.provider': this.providerName }) : null;
      pending = this.#call(token, key, span).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  /** Introspection never gates readiness: an outage answers 503 per token, it must not drain the fleet. */
  notReadyReason(): null {
    return null;
  }

  close(): Promise<void> {
    return this.#agent.destroy();
  }

  async #call(token: string, key: string, span: ChildSpan | null): Promise<IntrospectionResult> {
    if (span === null) return this.#ask(token, key);
    const result = await this.#ask(token, key);
    // The outcome, not the answer: an introspection response carries the token's claims.
    span.set('portcullis.introspection.result', typeof result === 'string' ? result : 'active');
    if (result === 'unavailable') span.fail('introspection unavailable');
    span.end();
    return result;
  }

  async #ask(token: string, key: string): Promise<IntrospectionResult> {
    const endpoint = this.#endpoint ?? (await this.#discover());
    if (endpoint === null) {
      this.#calls.error.inc();
      return 'unavailable';
    }
    let doc: unknown;
    try {
      doc = await this.#post(endpoint, token);
    } catch (err) {
      const timeout = isTimeout(err);
      (timeout ? this.#calls.timeout : this.#calls.error).inc();
      // The error names the endpoint and what failed; it never contains the request body.
      this.#logger.warn(
        { provider: this.providerName, endpoint, reason: timeout ? 'timeout' : err instanceof Error ? err.message : String(err) },
        'token introspection failed; the token is answered 503',
      );
      return 'unavailable';
    }
    const now = Date.now();
    const result = this.#judge(doc, now);
    if (result === 'unavailable') {
      this.#calls.error.inc();
      this.#logger.warn({ provider: this.providerName, endpoint }, 'token introspection answered without a boolean "active" (RFC 7662 §2.2); the token is answered 503');
      return result;
    }
    if (typeof result === 'string') {
      // The server's answer is the label; a refused claim of an active token (expired, wrong
      // audience …) is counted as its auth failure reason as well.
      (result === 'inactive' ? this.#calls.inactive : this.#calls.active).inc();
      this.#cache.set(key, result, now + this.#cfg.negativeTtlSec * 1000, now);
    } else {
      this.#calls.active.inc();
      this.#cache.set(key, result, Math.min(result.expiresAtMs, now + this.#cfg.maxTtlSec * 1000), now);
    }
    return result;
  }

  /** RFC 7662 §2.1: a form POST carrying the token, authenticated as a client (RFC 6749 §2.3.1). */
  async #post(endpoint: string, token: string): Promise<unknown> {
    const ms = this.#cfg.timeoutMs;
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      'user-agent': 'portcullis',
    };
    if (this.#authorization !== null) headers['authorization'] = this.#authorization;
    const res = await request(endpoint, {
      method: 'POST',
      dispatcher: this.#agent,
      signal: AbortSignal.timeout(ms),
      headers,
      body: `token=${formEncode(token)}&token_type_hint=access_token${this.#formCredentials}`,
      headersTimeout: ms,
      bodyTimeout: ms,
    });
    if (res.statusCode !== 200) {
      discard(res.body);
      // 401/403: our client credentials are wrong; 5xx: the server is down. Neither judges the token.
      throw new Error(`${endpoint} answered HTTP ${res.statusCode}`);
    }
    return readJsonBody(res, endpoint, MAX_RESPONSE_BYTES);
  }

  /**
   * RFC 7662 §2.2: `active` is required and boolean; an active token's other members are the
   * claims. They are checked as a JWT's are — iss (when present) must be this provider's, exp
   * and nbf (when present) with the clock tolerance, aud when `audiences` is configured.
   */
  #judge(doc: unknown, nowMs: number): IntrospectionResult {
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return 'unavailable';
    const claims = doc as Record<string, unknown>;
    const active = claims['active'];
    if (typeof active !== 'boolean') return 'unavailable';
    if (!active) return 'inactive';
    const problem = this.#provider.checkClaims(claims, Math.floor(nowMs / 1000), true);
    if (problem !== null) return problem;
    const exp = claims['exp'];
    // Without exp the answer is bounded by maxTtlSec alone (here and in forward-auth caches).
    return this.#provider.identityFrom(claims, typeof exp === 'number' ? exp * 1000 : nowMs + this.#cfg.maxTtlSec * 1000);
  }

  /** `introspection_endpoint` of the discovery document (RFC 8414 §2); null while it cannot be had. */
  #discover(): Promise<string | null> {
    if (this.#discovering !== null) return this.#discovering;
    if (Date.now() - this.#discoveryFailedAt < REDISCOVER_AFTER_MS) return Promise.resolve(null);
    const limits = { timeoutMs: this.#cfg.timeoutMs, maxBytes: MAX_RESPONSE_BYTES };
    const span = this.#tracing === null ? null : this.#tracing.startBackground('oidc discovery', {
      'portcullis.provider': this.providerName, 'portcullis.discovery.for': 'introspection', 'url.full': discoveryLocation(this.#provider.issuer),
    });
    this.#discovering = traced(span, discoverUrl(this.#agent, this.#provider.issuer, 'introspection_endpoint', AbortSignal.timeout(limits.timeoutMs), limits))
      .then((url) => {
        this.#endpoint = url;
        this.#logger.info({ provider: this.providerName, endpoint: url }, 'introspection endpoint discovered');
        return url;
      }, (err: unknown) => {
        this.#discoveryFailedAt = Date.now();
        this.#logger.warn({ provider: this.providerName, reason: err instanceof Error ? err.message : String(err) }, 'introspection endpoint discovery failed; opaque tokens are answered 503');
        return null;
      })
      .finally(() => { this.#discovering = null; });
    return this.#discovering;
  }
}
