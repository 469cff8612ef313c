/**
 * Config fragments of DPoP (RFC 9449, issue 20; docs/dpop.md): the per-provider and per-route
 * `dpop` mode and the top-level `auth.dpop` tuning. Spliced into src/auth/schema.ts, which
 * config/ assembles; this file imports only config/.
 */
import { integer } from '../../config/schema-kit.js';

/** `off`: today's contract (bearer tokens only); `allowed`: Bearer or DPoP; `required`: DPoP only. */
export type DpopMode = 'off' | 'allowed' | 'required';

/** `auth.dpop`, with schema defaults applied. */
export interface DpopConfig {
  algorithms: string[];
  proofMaxAgeSec: number;
  clockToleranceSec: number;
  keyCacheEntries: number;
  replayStore: 'auto' | 'local';
  replayMaxEntries: number;
  nonce: { enabled: boolean; secret?: string; ttlSec: number };
}

/**
 * Asymmetric JWS algorithms only (RFC 9449 §4.2: "MUST NOT be none or an identifier for a
 * symmetric algorithm"): a proof is signed by the client's own key, which the gateway never shares.
 */
export const DPOP_ALGORITHMS = [
  'ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA',
] as const;

export const DPOP_DEFAULTS = Object.freeze({
  algorithms: Object.freeze(['ES256', 'RS256', 'PS256', 'EdDSA']),
  proofMaxAgeSec: 60,
  clockToleranceSec: 5,
  keyCacheEntries: 10000,
  replayStore: 'auto',
  replayMaxEntries: 100000,
  nonce: Object.freeze({ enabled: false, ttlSec: 300 }),
});

export const DPOP_MODE_SCHEMA = {
  type: 'string',
  description:
    'DPoP (RFC 9449) for tokens of this provider or on this route: off (bearer tokens only, cnf.jkt not read), allowed (Authorization: Bearer or DPoP; a DPoP-bound token, one with cnf.jkt, must come with a valid proof) or required (DPoP only; Bearer gets 401). ' +
    'A route\'s value wins over its provider\'s. Default: off. See docs/dpop.md.',
  enum: ['off', 'allowed', 'required'],
};

export const DPOP_SCHEMA = {
  type: 'object',
  description: 'How DPoP proofs (RFC 9449 §4) are checked, for the providers and routes that set dpop: allowed or required. Default: {} (all defaults).',
  additionalProperties: false,
  default: {},
  properties: {
    algorithms: {
      type: 'array',
      description: `Accepted proof \`alg\` values, advertised in WWW-Authenticate: DPoP algs="…". Asymmetric only: none and HS* are never accepted. Default: [${DPOP_DEFAULTS.algorithms.join(', ')}].`,
      items: { type: 'string', description: 'An asymmetric JWS algorithm.', enum: DPOP_ALGORITHMS, errorMessage: `must be one of ${DPOP_ALGORITHMS.join(', ')} (asymmetric algorithms only)` },
      minItems: 1,
      uniqueItems: true,
      default: [...DPOP_DEFAULTS.algorithms],
    },
    proofMaxAgeSec: integer('Oldest proof accepted: its iat may lie at most this many seconds (plus clockToleranceSec) in the past. Also how long a proof jti is remembered against replay.', 1, 600, DPOP_DEFAULTS.proofMaxAgeSec),
    clockToleranceSec: integer('How far a proof iat may lie in the future, and the slack added to proofMaxAgeSec, in seconds.', 0, 300, DPOP_DEFAULTS.clockToleranceSec),
    keyCacheEntries: integer('Most imported proof public keys kept, keyed by their RFC 7638 thumbprint (least recently used evicted). 0 imports every key anew.', 0, 1000000, DPOP_DEFAULTS.keyCacheEntries),
    replayStore: {
      type: 'string',
      description: 'Where seen proof jti values are kept: auto (Redis, shared by every instance, when `redis` is configured; else in memory) or local (in memory, this instance only). Redis unreachable: rateLimits.failMode open falls back to memory, closed answers 503. Default: auto.',
      enum: ['auto', 'local'],
      default: DPOP_DEFAULTS.replayStore,
    },
    replayMaxEntries: integer('Most jti values the in-memory replay set holds; when full, new proofs get 503 rather than forgetting a jti still inside its window.', 1000, 10000000, DPOP_DEFAULTS.replayMaxEntries),
    nonce: {
      type: 'object',
      description: 'Server-provided nonce (RFC 9449 §9): when enabled, a proof must carry a nonce the gateway issued within ttlSec; otherwise 401 error="use_dpop_nonce" with a fresh DPoP-Nonce header. Default: {} (off).',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', description: 'Require a server nonce in every proof. Default: false.', default: false },
        secret: {
          type: 'string',
          description: 'HMAC key of the nonces, at least 32 characters; give every instance the same one (prefer ${ENV} interpolation). Absent: a random key per process (one instance only; a restart invalidates outstanding nonces).',
          minLength: 32,
          maxLength: 4096,
        },
        ttlSec: integer('How long an issued nonce is accepted, in seconds; a fresh one is sent (DPoP-Nonce) once half of it has passed.', 10, 86400, DPOP_DEFAULTS.nonce.ttlSec),
      },
    },
  },
};
