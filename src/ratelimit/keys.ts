/**
 * Client keys (PRODUCT §3 `key: sub | ip | claim:<path> | header:<name>`, plus `cert`, issue 7), compiled once per
 * policy into an object whose `keyOf(ctx)` returns the bucket's full key. Everything constant
 * is concatenated here, at load, so a request costs one concatenation (STYLE §3: Traefik formats
 * `name:source` on every call; we build the prefix once).
 *
 * Key layout: `<keyPrefix>rl:{<policy>:<kind>:<value>}`
 * - one Redis key per bucket; the `{…}` hash tag is the whole bucket identity, so buckets spread
 *   over Cluster slots while anything ever added for the same bucket would share its slot;
 * - kind `v` is the configured value, kind `i` the client address used when that value is
 *   missing, so a `sub` of "10.0.0.1" never shares a bucket with the address 10.0.0.1;
 * - values come from clients (headers) or tokens (claims): longer than 64 characters, or
 *   starting with '#', they are replaced by '#' + base64url(SHA-256), so a 16 KB header value
 *   makes a 60-byte key and no raw value can pose as a hash.
 */
import { createHash } from 'node:crypto';
import type { RequestContext } from '../contract/types.js';
import { compileClaimPath, readClaim, type ClaimPath } from '../contract/claims.js';

const MAX_RAW_VALUE = 64;

export interface ClientKey {
  /** The configured key, for logs and `portcullis check`. */
  readonly spec: string;
  keyOf(ctx: RequestContext): string;
}

/** Bounds attacker-controlled text before it becomes part of a key. */
export function boundValue(value: string): string {
  if (value.length <= MAX_RAW_VALUE && value.charCodeAt(0) !== 35 /* '#' */) return value;
  return '#' + createHash('sha256').update(value).digest('base64url');
}

/** Scalars become their string form; arrays, objects and empty strings count as missing. */
function claimValue(v: unknown): string | null {
  if (typeof v === 'string') return v === '' ? null : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

abstract class PrefixedKey implements ClientKey {
  readonly spec: string;
  /** `<keyPrefix>rl:{<policy>:v:` */
  protected readonly valuePrefix: string;
  /** `<keyPrefix>rl:{<policy>:i:` */
  protected readonly ipPrefix: string;

  constructor(spec: string, keyPrefix: string, policy: string) {
    this.spec = spec;
    this.valuePrefix = `${keyPrefix}rl:{${policy}:v:`;
    this.ipPrefix = `${keyPrefix}rl:{${policy}:i:`;
  }

  /** The client address of PRODUCT §1.3: canonical and bounded by construction. */
  protected byIp(ctx: RequestContext): string {
    return this.ipPrefix + ctx.clientIp + '}';
  }

  protected byValue(value: string | null, ctx: RequestContext): string {
    return value === null ? this.byIp(ctx) : this.valuePrefix + boundValue(value) + '}';
  }

  abstract keyOf(ctx: RequestContext): string;
}

class IpKey extends PrefixedKey {
  keyOf(ctx: RequestContext): string {
    return this.byIp(ctx);
  }
}

class SubKey extends PrefixedKey {
  keyOf(ctx: RequestContext): string {
    const sub = ctx.identity?.sub;
    return this.byValue(sub === undefined || sub === null || sub === '' ? null : sub, ctx);
  }
}

class ClaimKey extends PrefixedKey {
  readonly #path: ClaimPath;

  constructor(spec: string, keyPrefix: string, policy: string, path: string) {
    super(spec, keyPrefix, policy);
    this.#path = compileClaimPath(path);
  }

  keyOf(ctx: RequestContext): string {
    const identity = ctx.identity;
    return this.byValue(identity === null ? null : claimValue(readClaim(identity.claims, this.#path)), ctx);
  }
}

/**
 * The subject of the verified TLS client certificate (issue 7, docs/tls.md): a rotated
 * certificate of the same client keeps its bucket. No certificate → the client address.
 */
class CertKey extends PrefixedKey {
  keyOf(ctx: RequestContext): string {
    const cert = ctx.clientCert;
    return this.byValue(cert === undefined || cert === null ? null : cert.subject, ctx);
  }
}

class HeaderKey extends PrefixedKey {
  readonly #name: string;

  constructor(spec: string, keyPrefix: string, policy: string, name: string) {
    super(spec, keyPrefix, policy);
    this.#name = name.toLowerCase();
  }

  keyOf(ctx: RequestContext): string {
    const raw = ctx.headers[this.#name];
    // Node joins repeated headers with ", " except a few (set-cookie): take the first of those.
    const value = Array.isArray(raw) ? raw[0] : raw;
    return this.byValue(value === undefined || value === '' ? null : value, ctx);
  }
}

/** `spec` has passed the schema's pattern: sub | ip | claim:<path> | header:<name>. */
export function compileClientKey(spec: string, keyPrefix: string, policy: string): ClientKey {
  if (spec === 'ip') return new IpKey(spec, keyPrefix, policy);
  if (spec === 'sub') return new SubKey(spec, keyPrefix, policy);
  if (spec === 'cert') return new CertKey(spec, keyPrefix, policy);
  if (spec.startsWith('claim:')) return new ClaimKey(spec, keyPrefix, policy, spec.slice('claim:'.length));
  if (spec.startsWith('header:')) return new HeaderKey(spec, keyPrefix, policy, spec.slice('header:'.length));
  throw new Error(`unknown rate-limit key "${spec}"`);
}
