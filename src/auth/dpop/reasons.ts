/**
 * Why DPoP refused a request (RFC 9449): labels of `portcullis_auth_failures_total{reason}`
 * beside the token reasons of ../responses.ts, each with one fixed `error_description`.
 * Descriptions say which rule failed, never what the proof or token contained (PRODUCT §1).
 */

/** The proof itself is wrong: `error="invalid_dpop_proof"` (RFC 9449 §7.1). */
export type DpopProofReason =
  | 'dpop_missing_proof'
  | 'dpop_multiple_proofs'
  | 'dpop_malformed'
  | 'dpop_wrong_typ'
  | 'dpop_alg_not_allowed'
  | 'dpop_bad_jwk'
  | 'dpop_private_jwk'
  | 'dpop_bad_signature'
  | 'dpop_wrong_htm'
  | 'dpop_wrong_htu'
  | 'dpop_stale'
  | 'dpop_future'
  | 'dpop_missing_jti'
  | 'dpop_replayed'
  | 'dpop_missing_ath'
  | 'dpop_wrong_ath'
  | 'dpop_key_mismatch';

/** The token does not fit the scheme it came with: `error="invalid_token"`. */
export type DpopTokenReason = 'dpop_required' | 'dpop_bound_as_bearer' | 'dpop_unbound_token' | 'dpop_not_accepted';

/** Every DPoP failure label; `dpop_nonce` (use_dpop_nonce) and `dpop_replay_unavailable` (503) besides. */
export type DpopFailureReason = DpopProofReason | DpopTokenReason | 'dpop_nonce' | 'dpop_replay_unavailable';

export const PROOF_DESCRIPTIONS: Readonly<Record<DpopProofReason, string>> = {
  dpop_missing_proof: 'DPoP proof missing',
  dpop_multiple_proofs: 'more than one DPoP proof',
  dpop_malformed: 'malformed DPoP proof',
  dpop_wrong_typ: 'DPoP proof typ must be dpop+jwt',
  dpop_alg_not_allowed: 'DPoP proof algorithm not accepted',
  dpop_bad_jwk: 'DPoP proof jwk missing or not a public key',
  dpop_private_jwk: 'DPoP proof jwk contains private key material',
  dpop_bad_signature: 'DPoP proof signature invalid',
  dpop_wrong_htm: 'DPoP proof htm does not match the request method',
  dpop_wrong_htu: 'DPoP proof htu does not match the request URI',
  dpop_stale: 'DPoP proof too old',
  dpop_future: 'DPoP proof issued in the future',
  dpop_missing_jti: 'DPoP proof jti missing',
  dpop_replayed: 'DPoP proof already used',
  dpop_missing_ath: 'DPoP proof ath missing',
  dpop_wrong_ath: 'DPoP proof ath does not match the access token',
  dpop_key_mismatch: 'DPoP proof key is not the key the token is bound to',
};

export const TOKEN_DESCRIPTIONS: Readonly<Record<DpopTokenReason, string>> = {
  dpop_required: 'DPoP-bound token required',
  dpop_bound_as_bearer: 'DPoP-bound token sent as a bearer token',
  dpop_unbound_token: 'token is not DPoP-bound',
  dpop_not_accepted: 'DPoP not accepted for this token',
};
