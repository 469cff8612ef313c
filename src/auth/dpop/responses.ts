/**
 * The answers of DPoP failures (RFC 9449 §7.1, §9; RFC 6750 §3), built once per config and
 * route challenge: 401 with `WWW-Authenticate: DPoP error="invalid_dpop_proof" | "invalid_token"
 * | "use_dpop_nonce", error_description="…", algs="…"`. Where the route also accepts Bearer
 * tokens (`allowed`, or providers of both kinds), a bare Bearer challenge comes first, so a
 * client learns both schemes it may use (RFC 9110 §11.6.1: one field, several challenges).
 */
import type { Respond } from '../../contract/types.js';
import { INVALID_TOKEN_DESCRIPTIONS, type InvalidTokenReason } from '../responses.js';
import { PROOF_DESCRIPTIONS, TOKEN_DESCRIPTIONS, type DpopProofReason, type DpopTokenReason } from './reasons.js';

/** `dpop`: only DPoP is accepted on the route; `both`: Bearer as well. */
export type Challenge = 'dpop' | 'both';

/** How long a client is told to wait when the replay store is unavailable (failMode closed), in seconds. */
const REPLAY_UNAVAILABLE_RETRY_AFTER_SEC = '5';

function freeze(status: number, error: string, headers: Record<string, string>): Respond {
  return Object.freeze({ kind: 'respond', status, decision: 'unauthenticated', error, headers: Object.freeze(headers) });
}

class ChallengeAnswers {
  readonly missing: Respond;
  readonly proof: ReadonlyMap<DpopProofReason, Respond>;
  readonly token: ReadonlyMap<DpopTokenReason | InvalidTokenReason, Respond>;
  readonly #lead: string;
  readonly #dpop: string;

  constructor(realm: string, algs: string, challenge: Challenge) {
    this.#lead = challenge === 'both' ? `Bearer realm="${realm}", ` : '';
    this.#dpop = `DPoP realm="${realm}"`;
    this.missing = freeze(401, 'unauthorized', { 'www-authenticate': `${this.#lead}${this.#dpop}, algs="${algs}"` });
    const proof = new Map<DpopProofReason, Respond>();
    for (const [reason, text] of Object.entries(PROOF_DESCRIPTIONS) as [DpopProofReason, string][]) {
      proof.set(reason, this.#answer('invalid_dpop_proof', text, algs));
    }
    this.proof = proof;
    const token = new Map<DpopTokenReason | InvalidTokenReason, Respond>();
    for (const [reason, text] of [...Object.entries(TOKEN_DESCRIPTIONS), ...Object.entries(INVALID_TOKEN_DESCRIPTIONS)] as [DpopTokenReason, string][]) {
      token.set(reason, this.#answer('invalid_token', text, algs));
    }
    this.token = token;
  }

  /** RFC 9449 §9: the nonce to use next, in DPoP-Nonce; built once per nonce (nonce.ts). */
  useNonce(nonce: string): Respond {
    const r = this.#answer('use_dpop_nonce', 'Resource server requires nonce in DPoP proof', null);
    return Object.freeze({ ...r, headers: Object.freeze({ ...r.headers, 'dpop-nonce': nonce }) });
  }

  #answer(error: string, description: string, algs: string | null): Respond {
    const tail = algs === null ? '' : `, algs="${algs}"`;
    return freeze(401, error, { 'www-authenticate': `${this.#lead}${this.#dpop}, error="${error}", error_description="${description}"${tail}` });
  }
}

export class DpopResponses {
  readonly dpop: ChallengeAnswers;
  readonly both: ChallengeAnswers;
  /** The replay store is down and rateLimits.failMode is closed: a server problem, fail closed. */
  readonly replayUnavailable: Respond;

  constructor(realm: string, algorithms: readonly string[]) {
    const algs = algorithms.join(' ');
    this.dpop = new ChallengeAnswers(realm, algs, 'dpop');
    this.both = new ChallengeAnswers(realm, algs, 'both');
    this.replayUnavailable = freeze(503, 'unavailable', { 'retry-after': REPLAY_UNAVAILABLE_RETRY_AFTER_SEC });
  }

  for(challenge: Challenge): ChallengeAnswers {
    return challenge === 'dpop' ? this.dpop : this.both;
  }
}

export type { ChallengeAnswers };
