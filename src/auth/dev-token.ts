/**
 * `portcullis token` (PRODUCT §2): dev tokens signed with the key pair that
 * ships in config/ (dev-private-key.jwk.json, public half in dev-jwks.json),
 * which the default config trusts as provider `dev`. That private key is
 * public: anything that trusts DEV_ISSUER is for local development only.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importJWK, SignJWT } from 'jose';

/** The `iss` of dev tokens; the default config's `dev` provider expects it. */
export const DEV_ISSUER = 'portcullis-dev';
/** Longest lifetime a dev token may ask for. */
const MAX_TTL_SEC = 30 * 24 * 60 * 60;
const TTL = /^(\d{1,7})([smhd]?)$/;
const UNIT_SEC: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };
/** Claims the command sets itself; --claim may not override them. */
const RESERVED = new Set(['iss', 'sub', 'exp', 'iat', 'nbf', 'aud', 'scope']);
/** RFC 7518 §6 private key members of RSA, EC and OKP keys. */
const KEY_MEMBERS = new Set(['kty', 'crv', 'x', 'y', 'd', 'n', 'e', 'p', 'q', 'dp', 'dq', 'qi']);

export interface DevTokenOptions {
  sub: string;
  /** Space-separated scopes, as the `scope` claim (RFC 8693 §4.2). */
  scope?: string | undefined;
  /** `k=v` pairs; dotted keys nest (`realm_access.roles=["admin"]`); JSON arrays/objects are parsed. */
  claims?: readonly string[] | undefined;
  /** `15m`, `1h`, `30s`, `2d`, or seconds. Default 15m. */
  ttl?: string | undefined;
  aud?: string | undefined;
  issuer?: string | undefined;
  /** Private JWK file; default: the shipped dev key. */
  keyFile?: string | undefined;
}

export class DevTokenError extends Error {
  readonly code = 'PORTCULLIS_ERR_DEV_TOKEN';
}

/** `15m` → 900. */
export function parseTtl(text: string): number {
  const m = TTL.exec(text);
  const seconds = m === null ? NaN : Number(m[1]) * UNIT_SEC[m[2]!]!;
  if (!(seconds > 0 && seconds <= MAX_TTL_SEC)) throw new DevTokenError(`--ttl ${text}: expected a duration such as 30s, 15m, 1h or 2d (at most 30d)`);
  return seconds;
}

/** `--claim` arguments → payload members. */
export function parseClaims(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new DevTokenError(`--claim ${pair}: expected name=value`);
    const path = pair.slice(0, eq).split('.');
    if (path.some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype')) {
      throw new DevTokenError(`--claim ${pair}: bad claim name`);
    }
    if (RESERVED.has(path[0]!)) throw new DevTokenError(`--claim ${pair}: ${path[0]} is set by the command itself`);
    let target = out;
    for (const key of path.slice(0, -1)) {
      const next = target[key];
      target = (next !== null && typeof next === 'object' && !Array.isArray(next) ? next : (target[key] = {})) as Record<string, unknown>;
    }
    target[path.at(-1)!] = claimValue(pair.slice(eq + 1));
  }
  return out;
}

function claimValue(raw: string): unknown {
  if (raw.startsWith('[') || raw.startsWith('{')) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      throw new DevTokenError(`--claim value ${raw}: not valid JSON`);
    }
  }
  return raw;
}

/** config/dev-private-key.jwk.json of the installed package (from dist/src/auth or src/auth). */
export function defaultDevKeyFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'config', 'dev-private-key.jwk.json');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new DevTokenError('config/dev-private-key.jwk.json not found next to the portcullis package');
}

export async function mintDevToken(opts: DevTokenOptions): Promise<string> {
  if (opts.sub === '') throw new DevTokenError('--sub is required');
  const ttl = parseTtl(opts.ttl ?? '15m');
  const file = opts.keyFile ?? defaultDevKeyFile();
  const jwk = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  const alg = typeof jwk['alg'] === 'string' ? jwk['alg'] : 'ES256';
  // Key members only: the file's `_warning` (and use/alg/kid) are not for WebCrypto.
  const members = Object.fromEntries(Object.entries(jwk).filter(([k]) => KEY_MEMBERS.has(k)));
  const key = await importJWK(members as Parameters<typeof importJWK>[0], alg);
  const payload: Record<string, unknown> = parseClaims(opts.claims ?? []);
  if (opts.scope !== undefined) payload['scope'] = opts.scope;
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg, typ: 'JWT', ...(typeof jwk['kid'] === 'string' ? { kid: jwk['kid'] } : {}) })
    .setIssuer(opts.issuer ?? DEV_ISSUER)
    .setSubject(opts.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + ttl);
  if (opts.aud !== undefined) jwt.setAudience(opts.aud);
  return jwt.sign(key);
}
