/**
 * The identity-token signing keys (identityTokens.keys): loaded once per config load, checked
 * against their `alg`, and published — public members only — as the JWKS the admin listener
 * serves (server/admin.ts). A Resource of the gateway so that the admin listener finds the
 * current config's keys, and a reload (SIGHUP) swaps them with everything else.
 *
 * Reading the key files is synchronous, like the CRS rules (waf/crs/loader.ts): it happens at
 * startup and on reload only, never on the request path.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Resource } from '../contract/types.js';

export type IdentityTokenAlg = 'ES256' | 'EdDSA';

/** One `identityTokens.keys` entry as configured. */
export interface SigningKeyConfig {
  kid: string;
  alg: IdentityTokenAlg;
  file?: string;
  pem?: string;
}

export interface SigningKey {
  readonly kid: string;
  readonly alg: IdentityTokenAlg;
  readonly privateKey: KeyObject;
  /** RFC 7517 public JWK with kid, alg and use. */
  readonly jwk: Readonly<Record<string, unknown>>;
}

/** The key of an entry, or why it cannot be used (config-check.ts names the key's path with it). */
export function loadSigningKey(cfg: SigningKeyConfig): SigningKey | string {
  if ((cfg.file === undefined) === (cfg.pem === undefined)) return 'must set exactly one of file or pem';
  let text: string;
  try {
    text = cfg.pem ?? readFileSync(resolve(cfg.file!), 'utf8');
  } catch (err) {
    return `cannot read ${cfg.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`;
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(text);
  } catch {
    return 'is not a PEM private key';
  }
  const type = privateKey.asymmetricKeyType;
  if (cfg.alg === 'ES256' && !(type === 'ec' && privateKey.asymmetricKeyDetails?.namedCurve === 'prime256v1')) {
    return `alg ES256 needs an EC P-256 key, not ${describe(privateKey)}`;
  }
  if (cfg.alg === 'EdDSA' && type !== 'ed25519') return `alg EdDSA needs an Ed25519 key, not ${describe(privateKey)}`;
  // export({ format: 'jwk' }) of the public key holds only public members (kty, crv, x, y).
  const pub = createPublicKey(privateKey).export({ format: 'jwk' });
  return Object.freeze({ kid: cfg.kid, alg: cfg.alg, privateKey, jwk: Object.freeze({ ...pub, kid: cfg.kid, alg: cfg.alg, use: 'sig' }) });
}

function describe(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve === undefined ? `a ${key.asymmetricKeyType ?? 'secret'} key` : `an ${key.asymmetricKeyType} ${curve} key`;
}

/** Every configured key, the current one, and the JWKS response body, built once. */
export class IdentityKeys implements Resource {
  readonly name = 'identityTokens';
  readonly issuer: string;
  readonly current: SigningKey;
  /** `{"keys":[…]}`, every configured key (old ones verify tokens still in flight). */
  readonly jwksBody: string;
  readonly cacheControl: string;

  constructor(issuer: string, keys: readonly SigningKey[], currentKid: string, jwksMaxAgeSec: number) {
    const current = keys.find((k) => k.kid === currentKid);
    // config-check.ts refused this already; reaching here is a bug.
    if (current === undefined) throw new Error(`identityTokens.current "${currentKid}" is not among the keys`);
    this.issuer = issuer;
    this.current = current;
    this.jwksBody = JSON.stringify({ keys: keys.map((k) => k.jwk) });
    this.cacheControl = jwksMaxAgeSec === 0 ? 'no-cache' : `public, max-age=${jwksMaxAgeSec}`;
  }

  notReadyReason(): string | null {
    return null;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The identity-token keys among a gateway's resources, if it has any (server/admin.ts). */
export function identityKeysOf(resources: readonly Resource[]): IdentityKeys | null {
  for (const r of resources) if (r instanceof IdentityKeys) return r;
  return null;
}
