/**
 * The DPoP hook of the auth stage (RFC 9449 §7): called once a token has verified — freshly or
 * from the verified-token cache, since every request brings a new proof — with the scheme the
 * token came in. It decides, for the mode of the token's provider on this route:
 *
 * - off: as before DPoP existed; a token sent as `DPoP` is refused (this issuer's tokens are
 *   not DPoP here).
 * - a token sent as `Bearer`: refused under `required`, and refused when it is DPoP-bound
 *   (`cnf.jkt`, RFC 9449 §7.2: a bound token is no bearer token); otherwise it passes.
 * - a token sent as `DPoP`: it must be bound, and its proof must pass proof.ts, carry the key
 *   `cnf.jkt` names, carry a live server nonce when nonces are on, and have an unseen jti.
 *
 * Synchronous except for the Redis replay check (one SET NX PX round trip).
 */
import { CONTINUE, type RequestContext, type Respond, type Verdict } from '../../contract/types.js';
import { addResponseHeader } from '../../contract/respond.js';
import type { InvalidTokenReason } from '../responses.js';
import type { DpopMode } from './schema.js';
import type { NonceIssuer } from './nonce.js';
import { verifyProof, type ProofRules } from './proof.js';
import type { LastTokenMemo } from '../last-token.js';
import type { DpopFailureReason } from './reasons.js';
import type { ReplayOutcome, ReplayStore } from './replay.js';
import type { Challenge, ChallengeAnswers, DpopResponses } from './responses.js';
import type { ProofHeaders } from './signature.js';

/** What every route's DPoP check of one config shares (compile.ts). */
export interface DpopShared {
  readonly rules: ProofRules;
  readonly headers: ProofHeaders;
  readonly athOf: LastTokenMemo;
  readonly replay: ReplayStore;
  /** How long a jti is remembered: the whole span in which its iat check passes. */
  readonly windowMs: number;
  readonly nonce: NonceIssuer | null;
  readonly responses: DpopResponses;
  readonly count: (provider: string, reason: DpopFailureReason) => void;
}

/** RFC 9449 §6.1 `cnf.jkt`: undefined when the token is not DPoP-bound, null when cnf is malformed. */
function boundThumbprint(claims: Readonly<Record<string, unknown>>): string | null | undefined {
  const cnf = claims['cnf'];
  if (cnf === undefined) return undefined;
  if (cnf === null || typeof cnf !== 'object') return null;
  const jkt = (cnf as Record<string, unknown>)['jkt'];
  if (jkt === undefined) return undefined;
  return typeof jkt === 'string' && jkt !== '' ? jkt : null;
}

export class DpopCheck {
  readonly #s: DpopShared;
  /** Effective mode per provider name (the route's dpop, else the provider's). */
  readonly #modes: ReadonlyMap<string, DpopMode>;
  readonly #answers: ChallengeAnswers;
  #nonceAnswer: { readonly nonce: string; readonly respond: Respond } | null = null;

  constructor(shared: DpopShared, modes: ReadonlyMap<string, DpopMode>, challenge: Challenge) {
    this.#s = shared;
    this.#modes = modes;
    this.#answers = shared.responses.for(challenge);
  }

  /** The 401 of a request without any token: it names DPoP (and Bearer, when the route takes both). */
  get missing(): Respond {
    return this.#answers.missing;
  }

  /** A token sent as `DPoP` that failed the provider's own checks: invalid_token in the DPoP scheme. */
  invalidToken(reason: InvalidTokenReason): Respond {
    return this.#answers.token.get(reason)!;
  }

  /** Sender-constraint check of a verified token (see the file comment). */
  check(ctx: RequestContext, token: string, viaDpop: boolean, provider: string, claims: Readonly<Record<string, unknown>>): Verdict | Promise<Verdict> {
    const mode = this.#modes.get(provider) ?? 'off';
    if (mode === 'off') return viaDpop ? this.#token(provider, 'dpop_not_accepted') : CONTINUE;
    const jkt = boundThumbprint(claims);
    if (!viaDpop) {
      if (mode === 'required') return this.#token(provider, 'dpop_required');
      return jkt === undefined ? CONTINUE : this.#token(provider, 'dpop_bound_as_bearer');
    }
    if (typeof jkt !== 'string') return this.#token(provider, 'dpop_unbound_token');
    const header = ctx.headers['dpop'];
    if (typeof header !== 'string' || header === '') return this.#proof(provider, 'dpop_missing_proof');
    const s = this.#s;
    const nowMs = Date.now();
    const nowSec = nowMs / 1000;
    const proof = verifyProof(header, ctx, token, nowSec, s.rules, s.headers, s.athOf);
    if (typeof proof === 'string') return this.#proof(provider, proof);
    if (proof.thumbprint !== jkt) return this.#proof(provider, 'dpop_key_mismatch');
    let sendNonce = false;
    if (s.nonce !== null) {
      const n = s.nonce.check(proof.nonce, nowSec);
      if (n === 'invalid') {
        s.count(provider, 'dpop_nonce');
        return this.#useNonce(s.nonce.current(nowSec));
      }
      sendNonce = n === 'aging';
    }
    const seen = s.replay.remember(proof.thumbprint, proof.jti, nowMs, s.windowMs);
    if (seen instanceof Promise) return seen.then((o) => this.#replayed(ctx, provider, o, sendNonce, nowSec));
    return this.#replayed(ctx, provider, seen, sendNonce, nowSec);
  }

  #replayed(ctx: RequestContext, provider: string, outcome: ReplayOutcome, sendNonce: boolean, nowSec: number): Verdict {
    if (outcome === 'replayed') return this.#proof(provider, 'dpop_replayed');
    if (outcome === 'unavailable') {
      this.#s.count(provider, 'dpop_replay_unavailable');
      return this.#s.responses.replayUnavailable;
    }
    // RFC 9449 §8.2: the next nonce rides on a success before the client's one runs out.
    if (sendNonce) addResponseHeader(ctx, 'dpop-nonce', this.#s.nonce!.current(nowSec));
    return CONTINUE;
  }

  #proof(provider: string, reason: Parameters<ChallengeAnswers['proof']['get']>[0]): Respond {
    this.#s.count(provider, reason);
    return this.#answers.proof.get(reason)!;
  }

  #token(provider: string, reason: 'dpop_required' | 'dpop_bound_as_bearer' | 'dpop_unbound_token' | 'dpop_not_accepted'): Respond {
    this.#s.count(provider, reason);
    return this.#answers.token.get(reason)!;
  }

  /** One Respond per current nonce: rebuilt only when the issuer moves on to the next one. */
  #useNonce(nonce: string): Respond {
    const cached = this.#nonceAnswer;
    if (cached !== null && cached.nonce === nonce) return cached.respond;
    const respond = this.#answers.useNonce(nonce);
    this.#nonceAnswer = { nonce, respond };
    return respond;
  }
}
