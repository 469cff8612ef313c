/**
 * `identityTokens` + routes' `identityToken` → the signing keys (a gateway resource, served as a
 * JWKS by the admin listener) and each route's IdentityTokenStage. Once per config load.
 */
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import type { Resource } from '../contract/types.js';
import { IdentityKeys, loadSigningKey, type SigningKey } from './keys.js';
import { IDENTITY_TOKEN_DEFAULTS } from './schema.js';
import { IdentityTokenStage } from './stage.js';

export interface CompiledIdentityTokens {
  readonly resources: readonly Resource[];
  /** The route's stage, or null when it asks for no identity token. */
  stageFor(route: RouteConfig): IdentityTokenStage | null;
}

const NONE: CompiledIdentityTokens = Object.freeze({ resources: [], stageFor: () => null });

export function compileIdentityTokens(cfg: GatewayConfig): CompiledIdentityTokens {
  const c = cfg.identityTokens;
  if (c === undefined) return NONE;
  const keys: SigningKey[] = [];
  for (const k of c.keys) {
    const key = loadSigningKey(k);
    // config-check.ts reported it with the key's path; a file that changed since is still an error.
    if (typeof key === 'string') throw new Error(`identityTokens key "${k.kid}": ${key}`);
    keys.push(key);
  }
  const signing = new IdentityKeys(c.issuer, keys, c.current, c.jwksMaxAgeSec ?? IDENTITY_TOKEN_DEFAULTS.jwksMaxAgeSec);
  return {
    resources: [signing],
    stageFor(route: RouteConfig): IdentityTokenStage | null {
      const r = route.identityToken;
      if (r === undefined) return null;
      return new IdentityTokenStage({
        header: (r.header ?? IDENTITY_TOKEN_DEFAULTS.header).toLowerCase(),
        ttlSec: r.ttlSec ?? IDENTITY_TOKEN_DEFAULTS.ttlSec,
        claims: r.claims ?? IDENTITY_TOKEN_DEFAULTS.claims,
        audience: r.audience ?? route.name,
      }, signing);
    },
  };
}

/** Names whose incoming copies are removed like every identity header: the default and each route's. */
export function identityTokenHeaders(cfg: GatewayConfig): string[] {
  return [IDENTITY_TOKEN_DEFAULTS.header, ...cfg.routes.flatMap((r) => (r.identityToken?.header === undefined ? [] : [r.identityToken.header]))];
}
