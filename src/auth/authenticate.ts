/**
 * The `auth` stage (PRODUCT §1.7): find the token, verify it with the
 * provider its `iss` names, set `ctx.identity`, or answer 401 (RFC 6750 §3).
 *
 * Hot path: a token seen before is a hash and a map lookup away from
 * CONTINUE, synchronously. Only a first sighting goes through parsing and
 * (asynchronous, WebCrypto) signature verification — or, for an opaque token
 * (or every token of a provider with `introspection.tokens: all`), through
 * RFC 7662 introspection (introspection.ts, with its own cache).
 *
 * The brute-force brake is consulted only after a token failed, so it can
 * never refuse a token that is cached or verifies (PRODUCT §8).
 */
import type { Logger } from 'pino';
import { CONTINUE, type Identity, type RequestContext, type Respond, type Stage, type Verdict } from '../contract/types.js';
import type { GatewayMetrics } from '../observe/metrics.js';
import type { BruteForceBrake } from './brake.js';
import type { CertBinding } from './cert-bound.js';
import type { IntrospectionResult, Introspector } from './introspection.js';
import { parseJwt, type ParsedJwt } from './jwt.js';
import type { Provider } from './provider.js';
import type { AuthFailureReason, AuthResponses, InvalidTokenReason } from './responses.js';
import type { TokenCache } from './token-cache.js';
import { AMBIGUOUS_COOKIE, MULTIPLE_TOKENS, type TokenSources } from './token-source.js';
import { dpopToken } from './dpop/authorization.js';
import type { DpopCheck } from './dpop/check.js';

/** What every route's auth stage of one config shares: compiled once in compile.ts. */
export interface AuthShared {
  readonly providersByIssuer: ReadonlyMap<string, Provider>;
  readonly sources: TokenSources;
  readonly cache: TokenCache | null;
  readonly brake: BruteForceBrake | null;
  /** RFC 7662 introspection per provider that has it, in config order. */
  readonly introspectors: ReadonlyMap<Provider, Introspector>;
  readonly responses: AuthResponses;
  readonly maxTokenBytes: number;
  readonly failures: FailureCounter;
  readonly logger: Logger;
  /** RFC 8705: a token with cnf["x5t#S256"] needs its client certificate (cert-bound.ts). */
  readonly certBinding: CertBinding;
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
  /**
   * Where this route's opaque tokens (no JWT) are introspected: the first accepted provider
   * with `introspection`, in config order. An opaque token names no issuer, so it can only go
   * to one place; null refuses them as malformed, as without introspection.
   */
  readonly #opaque: Introspector | null;
  /** RFC 9449 DPoP for this route (dpop/check.ts); null when no accepted provider uses it here. */
  readonly #dpop: DpopCheck | null;
  readonly perRequestProof: boolean;

  constructor(shared: AuthShared, accepted: ReadonlySet<Provider> | null, dpop: DpopCheck | null = null) {
    this.#s = shared;
    this.#accepted = accepted;
    this.#dpop = dpop;
    this.perRequestProof = dpop !== null;
    let opaque: Introspector | null = null;
    for (const [provider, introspector] of shared.introspectors) {
      if (accepted === null || accepted.has(provider)) {
        opaque = introspector;
        break;
      }
    }
    this.#opaque = opaque;
  }

  handle(ctx: RequestContext): Verdict | Promise<Verdict> {
    const s = this.#s;
    const now = Date.now();
    let token = s.sources.extract(ctx.headers);
    let viaDpop = false;
    if (this.#dpop !== null && typeof token !== 'symbol') {
      // `Authorization: DPoP <token>` (RFC 9449 §7.1): one more source, held to the same one-token rule.
      const d = dpopToken(ctx.headers.authorization);
      if (d !== null && token !== null && d !== token) token = MULTIPLE_TOKENS;
      else if (d !== null) {
        token = d;
        viaDpop = true;
      }
    }
    if (token === null) {
      s.failures.count('', 'missing');
      return this.#dpop?.missing ?? s.responses.missing;
    }
    if (token === MULTIPLE_TOKENS) return this.#fail(ctx, '', 'multiple_tokens');
    if (token === AMBIGUOUS_COOKIE) {
      s.failures.count('', 'ambiguous_cookie');
      return s.responses.ambiguousCookie;
    }
    // Bounded before any decoding: parsing cost and memory stay proportional to a sane token.
    if (token.length > s.maxTokenBytes) return this.#fail(ctx, '', 'malformed', viaDpop);
    const key = s.cache === null ? '' : s.cache.keyOf(token);
    if (s.cache !== null) {
      const hit = s.cache.get(key, now);
      if (hit !== null && (this.#accepted === null || this.#accepted.has(hit.provider))) {
        ctx.identity = hit.identity;
        return this.#senderConstrained(ctx, token, viaDpop, hit.identity);
      }
    }
    const jwt = parseJwt(token);
    // Not a JWT at all: an opaque token for the route's introspection endpoint, if it has one.
    if (jwt === 'malformed' && this.#opaque !== null) return this.#introspected(ctx, this.#opaque, this.#opaque.introspect(token, now, ctx.trace), token, viaDpop);
    if (typeof jwt === 'string') return this.#fail(ctx, '', jwt, viaDpop);
    // iss picks the provider before any key is fetched: an unknown issuer costs no network.
    const provider = jwt.iss === undefined ? undefined : s.providersByIssuer.get(jwt.iss);
    if (provider === undefined) return this.#fail(ctx, '', 'wrong_issuer', viaDpop);
    if (this.#accepted !== null && !this.#accepted.has(provider)) return this.#fail(ctx, provider.name, 'provider_not_allowed', viaDpop);
    const introspector = s.introspectors.get(provider);
    // `tokens: all`: the authorisation server decides (revocation), not the signature alone.
    if (introspector !== undefined && introspector.tokens === 'all') return this.#introspected(ctx, introspector, introspector.introspect(token, now, ctx.trace), token, viaDpop);
    return this.#verify(ctx, jwt, provider, key, viaDpop);
  }

  /**
   * Sender-constrained tokens, after every verification (cached or not): RFC 9449 DPoP here
   * (dpop/check.ts); an RFC 8705 certificate-bound check belongs beside it.
   */
  #senderConstrained(ctx: RequestContext, token: string, viaDpop: boolean, identity: Identity): Verdict | Promise<Verdict> {
    // RFC 8705 then RFC 9449: a token bound to a certificate or to a proof key is refused without it.
    const bound = this.#s.certBinding.check(ctx);
    if (bound !== CONTINUE) return bound;
    return this.#dpop === null ? CONTINUE : this.#dpop.check(ctx, token, viaDpop, identity.provider, identity.claims);
  }

  /** Synchronous on an introspection cache hit; otherwise waits for the (shared) call. */
  #introspected(
    ctx: RequestContext, introspector: Introspector, result: IntrospectionResult | Promise<IntrospectionResult>, token: string, viaDpop: boolean,
  ): Verdict | Promise<Verdict> {
    if (result instanceof Promise) return result.then((r) => this.#introspected(ctx, introspector, r, token, viaDpop));
    const name = introspector.providerName;
    if (result === 'unavailable') {
      this.#s.failures.count(name, 'introspection_unavailable');
      return this.#s.responses.unavailable;
    }
    if (typeof result === 'string') return this.#fail(ctx, name, result, viaDpop);
    ctx.identity = result;
    return this.#senderConstrained(ctx, token, viaDpop, result);
  }

  async #verify(ctx: RequestContext, jwt: ParsedJwt, provider: Provider, key: string, viaDpop: boolean): Promise<Verdict> {
    const result = await provider.verify(jwt);
    if (result === 'keys_unavailable') {
      this.#s.failures.count(provider.name, result);
      return this.#s.responses.unavailable;
    }
    if (typeof result === 'string') return this.#fail(ctx, provider.name, result, viaDpop);
    ctx.identity = result.identity;
    this.#s.cache?.set(key, provider, result.identity, result.keySet, Date.now());
    return this.#senderConstrained(ctx, jwt.token, viaDpop, result.identity);
  }

  #fail(ctx: RequestContext, provider: string, reason: InvalidTokenReason, viaDpop = false): Respond | Promise<Respond> {
    const s = this.#s;
    s.failures.count(provider, reason);
    if (s.logger.isLevelEnabled('debug')) s.logger.debug({ requestId: ctx.id, provider, reason }, 'token refused');
    const denial = viaDpop ? this.#dpop!.invalidToken(reason) : s.responses.invalid(reason);
    // Expired, not yet valid, wrong audience …: client bugs, not guesses; they keep their 401.
    return s.brake === null || !s.brake.counts(reason) ? denial : this.#brake(ctx, denial);
  }

  async #brake(ctx: RequestContext, denial: Respond): Promise<Respond> {
    const { blockedMs, justBlocked } = await this.#s.brake!.recordFailure(ctx.clientIp);
    if (blockedMs === 0) return denial;
    // Once per block, not per refused token: a blocked client keeps sending.
    if (justBlocked) this.#s.logger.warn({ requestId: ctx.id, clientIp: ctx.clientIp }, 'too many invalid tokens: client blocked');
    this.#s.failures.count('', 'blocked');
    return this.#s.responses.blocked(Math.ceil(blockedMs / 1000));
  }
}
