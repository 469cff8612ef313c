/**
 * The `auth` stage (PRODUCT §1.7): find the token, verify it with the
 * provider its `iss` names, set `ctx.identity`, or answer 401 (RFC 6750 §3).
 *
 * Hot path: a token seen before is a hash and a map lookup away from
 * CONTINUE, synchronously. Only a first sighting goes through parsing and
 * (asynchronous, WebCrypto) signature verification.
 */
import type { Logger } from 'pino';
import { CONTINUE, type RequestContext, type Respond, type Stage, type Verdict } from '../pipeline/types.js';
import type { GatewayMetrics } from '../observe/metrics.js';
import type { BruteForceBrake } from './brake.js';
import { parseJwt, type ParsedJwt } from './jwt.js';
import type { Provider } from './provider.js';
import type { AuthFailureReason, AuthResponses, InvalidTokenReason } from './responses.js';
import { tokenKey, type TokenCache } from './token-cache.js';
import { AMBIGUOUS_COOKIE, MULTIPLE_TOKENS, type TokenSources } from './token-source.js';

/** What every route's auth stage of one config shares: compiled once in compile.ts. */
export interface AuthShared {
  readonly providersByIssuer: ReadonlyMap<string, Provider>;
  readonly sources: TokenSources;
  readonly cache: TokenCache | null;
  readonly brake: BruteForceBrake | null;
  readonly responses: AuthResponses;
  readonly maxTokenBytes: number;
  readonly failures: FailureCounter;
  readonly logger: Logger;
}

/** portcullis_auth_failures_total children, resolved once per (provider, reason) pair. */
export class FailureCounter {
  readonly #metrics: GatewayMetrics;
  readonly #children = new Map<string, { inc(): void }>();

  constructor(metrics: GatewayMetrics) {
    this.#metrics = metrics;
  }

  count(provider: string, reason: AuthFailureReason): void {
    const key = provider + '\n' + reason;
    let child = this.#children.get(key);
    if (child === undefined) {
      child = this.#metrics.authFailuresTotal.labels(provider, reason);
      this.#children.set(key, child);
    }
    child.inc();
  }
}

export class AuthenticateStage implements Stage {
  readonly name = 'auth';
  readonly #s: AuthShared;
  /** The route's `auth.providers`; null accepts every configured provider. */
  readonly #accepted: ReadonlySet<Provider> | null;

  constructor(shared: AuthShared, accepted: ReadonlySet<Provider> | null) {
    this.#s = shared;
    this.#accepted = accepted;
  }

  handle(ctx: RequestContext): Verdict | Promise<Verdict> {
    const s = this.#s;
    const now = Date.now();
    if (s.brake !== null) {
      const blockedMs = s.brake.blockedMs(ctx.clientIp, now);
      if (blockedMs > 0) {
        s.failures.count('', 'blocked');
        return s.responses.blocked(Math.ceil(blockedMs / 1000));
      }
    }
    const token = s.sources.extract(ctx.headers);
    if (token === null) {
      s.failures.count('', 'missing');
      return s.responses.missing;
    }
    if (token === MULTIPLE_TOKENS) return this.#fail(ctx, '', 'multiple_tokens');
    if (token === AMBIGUOUS_COOKIE) {
      s.failures.count('', 'ambiguous_cookie');
      return s.responses.ambiguousCookie;
    }
    // Bounded before any decoding: parsing cost and memory stay proportional to a sane token.
    if (token.length > s.maxTokenBytes) return this.#fail(ctx, '', 'malformed');
    const key = s.cache === null ? '' : tokenKey(token);
    if (s.cache !== null) {
      const hit = s.cache.get(key, now);
      if (hit !== null && (this.#accepted === null || this.#accepted.has(hit.provider))) {
        ctx.identity = hit.identity;
        return CONTINUE;
      }
    }
    const jwt = parseJwt(token);
    if (typeof jwt === 'string') return this.#fail(ctx, '', jwt);
    // iss picks the provider before any key is fetched: an unknown issuer costs no network.
    const provider = jwt.iss === undefined ? undefined : s.providersByIssuer.get(jwt.iss);
    if (provider === undefined) return this.#fail(ctx, '', 'wrong_issuer');
    if (this.#accepted !== null && !this.#accepted.has(provider)) return this.#fail(ctx, provider.name, 'provider_not_allowed');
    return this.#verify(ctx, jwt, provider, key);
  }

  async #verify(ctx: RequestContext, jwt: ParsedJwt, provider: Provider, key: string): Promise<Verdict> {
    const result = await provider.verify(jwt);
    if (result === 'keys_unavailable') {
      this.#s.failures.count(provider.name, result);
      return this.#s.responses.unavailable;
    }
    if (typeof result === 'string') return this.#fail(ctx, provider.name, result);
    ctx.identity = result.identity;
    this.#s.cache?.set(key, provider, result.identity, result.keySet, Date.now());
    return CONTINUE;
  }

  #fail(ctx: RequestContext, provider: string, reason: InvalidTokenReason): Respond | Promise<Respond> {
    const s = this.#s;
    s.failures.count(provider, reason);
    if (s.logger.isLevelEnabled('debug')) s.logger.debug({ requestId: ctx.id, provider, reason }, 'token refused');
    const denial = s.responses.invalid(reason);
    return s.brake === null ? denial : this.#brake(ctx, denial);
  }

  async #brake(ctx: RequestContext, denial: Respond): Promise<Respond> {
    const blockedMs = await this.#s.brake!.recordFailure(ctx.clientIp);
    if (blockedMs === 0) return denial;
    this.#s.logger.warn({ requestId: ctx.id, clientIp: ctx.clientIp }, 'too many invalid tokens: client blocked');
    this.#s.failures.count('', 'blocked');
    return this.#s.responses.blocked(Math.ceil(blockedMs / 1000));
  }
}
