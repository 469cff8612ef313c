/**
 * ID token validation for the code flow (OpenID Connect Core 1.0 §3.1.3.7): the signature, `iss`,
 * `exp`, `nbf`/`iat` with the provider's EXISTING verification (auth/provider.ts, its key store,
 * algorithms and clock tolerance — one implementation of JWT checks, not two), with `aud` fixed to
 * the client id; then what only sign-in knows: `nonce` equals the one this browser's flow sent
 * (§3.1.2.1, replay), `azp` is us when there are several audiences, and `at_hash` matches the
 * access token when present (§3.1.3.8).
 */
import { createHash } from 'node:crypto';
import type { ProviderConfig } from '../config/types.js';
import type { VerifiedIdentity } from '../auth/identity.js';
import { parseJwt } from '../auth/jwt.js';
import type { KeySource } from '../auth/key-store.js';
import { Provider } from '../auth/provider.js';

export type IdTokenResult = { readonly ok: true; readonly identity: VerifiedIdentity } | { readonly ok: false; readonly reason: string };

/** The hash of at_hash for a JWS alg (Core §3.1.3.6); EdDSA (Ed25519) uses SHA-512. */
function hashFor(alg: string): string {
  if (alg.endsWith('384')) return 'sha384';
  if (alg.endsWith('512') || alg === 'EdDSA') return 'sha512';
  return 'sha256';
}

export class IdTokenVerifier {
  readonly #provider: Provider;
  readonly #clientId: string;

  /** `keys`: the key store the provider's access tokens are verified with. */
  constructor(cfg: ProviderConfig, clientId: string, keys: KeySource) {
    this.#provider = new Provider({ ...cfg, audiences: [clientId] }, keys);
    this.#clientId = clientId;
  }

  /** `nonce` null: a refreshed ID token, which carries none to compare (Core §12.2). */
  async verify(idToken: string, nonce: string | null, accessToken: string | null): Promise<IdTokenResult> {
    const jwt = parseJwt(idToken);
    if (typeof jwt === 'string') return { ok: false, reason: jwt };
    const result = await this.#provider.verify(jwt);
    if (typeof result === 'string') return { ok: false, reason: result };
    const claims = result.identity.claims;
    if (nonce !== null && claims['nonce'] !== nonce) return { ok: false, reason: 'nonce_mismatch' };
    if (typeof claims['sub'] !== 'string' || claims['sub'] === '') return { ok: false, reason: 'missing_sub' };
    const aud = claims['aud'];
    if (Array.isArray(aud) && aud.length > 1 && claims['azp'] !== this.#clientId) return { ok: false, reason: 'wrong_azp' };
    const atHash = claims['at_hash'];
    if (atHash !== undefined && accessToken !== null) {
      const digest = createHash(hashFor(jwt.alg)).update(accessToken).digest();
      if (atHash !== digest.subarray(0, digest.length / 2).toString('base64url')) return { ok: false, reason: 'at_hash_mismatch' };
    }
    return { ok: true, identity: result.identity };
  }
}
