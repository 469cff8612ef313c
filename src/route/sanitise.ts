/**
 * Which incoming request headers never reach an upstream (PRODUCT §4).
 *
 * - Hop-by-hop headers (RFC 9110 §7.6.1) and every name listed in `Connection`.
 * - Every header the gateway may inject: all `identityHeaders` names of all
 *   routes, plus `X-Auth-Request-*`, compared in a canonical spelling so the
 *   aliases that backends fold together (`X_User_Id`, `x.user.id`, any case)
 *   are caught too — some frameworks (CGI, PHP, Django, Rails) turn `-`, `_`
 *   and `.` into the same name.
 * - Forwarding headers the gateway rewrites itself (X-Forwarded-*, Forwarded,
 *   X-Real-Ip, X-Request-Id): rebuilt from what it saw, never passed as sent.
 * - Path, method and client-address overrides (X-Original-URL, X-HTTP-Method-Override,
 *   True-Client-IP, …) that upstream frameworks would obey over the real request.
 * - `Expect`: Node answers 100-continue itself before the body is streamed.
 */

// RFC 9110 §7.6.1 plus the legacy names Node and proxies still meet.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'http2-settings',
]);

const REWRITTEN = new Set([
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port',
  'x-forwarded-prefix', 'x-forwarded-server', 'forwarded', 'x-real-ip', 'x-request-id', 'expect',
]);

/**
 * Headers some upstream frameworks obey to rewrite the path or method (Symfony, Zend and IIS
 * read X-Original-URL / X-Rewrite-URL; many honour X-HTTP-Method-Override) or take as the
 * client address. The route decision was made on the real request line and peer, so a client
 * must not be able to restate them to the upstream.
 */
const OVERRIDES = new Set([
  'x-original-url', 'x-rewrite-url', 'x-original-uri', 'x-original-method', 'x-forwarded-uri', 'x-forwarded-method',
  'x-http-method-override', 'x-http-method', 'x-method-override',
  'true-client-ip', 'x-client-ip', 'cf-connecting-ip', 'x-cluster-client-ip', 'fastly-client-ip',
  'x-original-forwarded-for', 'x-originating-ip', 'x-remote-ip', 'x-remote-addr',
]);

/** Never removed because `Connection` names them: the request would change meaning. */
const NOT_CONNECTION_LISTABLE = new Set(['host', 'content-length', 'content-type', 'authorization']);

const INJECTED_PREFIX = 'x-auth-request-';

/** Lowercase and fold `_` and `.` into `-`: the spelling backends compare by. */
export function canonicalHeaderName(name: string): string {
  let out = name.toLowerCase();
  if (out.includes('_') || out.includes('.')) out = out.replace(/[_.]/g, '-');
  return out;
}

export function isHopByHop(lowerName: string): boolean {
  return HOP_BY_HOP.has(lowerName) || lowerName.startsWith('proxy-');
}

/** Names listed in a Connection header value, lowercased. */
export function connectionListed(value: string | undefined): ReadonlySet<string> | null {
  // What nearly every client and upstream sends lists no header: skip the split and the Set
  // (this runs twice per request, for the request and for the upstream's response).
  if (value === undefined || value === '' || value === 'keep-alive' || value === 'close') return null;
  const names = new Set<string>();
  for (const part of value.split(',')) {
    const name = part.trim().toLowerCase();
    if (name !== '' && name !== 'close' && name !== 'keep-alive' && !NOT_CONNECTION_LISTABLE.has(name)) names.add(name);
  }
  return names.size ? names : null;
}

/**
 * Header names compared in the canonical spelling (canonicalHeaderName): `X_Tenant`, `x.tenant`
 * and `X-TENANT` are all `x-tenant`, since some upstream frameworks fold them together.
 */
export class CanonicalHeaderNames {
  readonly #canonical: ReadonlySet<string>;

  constructor(names: Iterable<string>) {
    const set = new Set<string>();
    for (const name of names) set.add(canonicalHeaderName(name));
    this.#canonical = set;
  }

  has(name: string): boolean {
    return this.#canonical.has(canonicalHeaderName(name));
  }

  hasCanonical(canonical: string): boolean {
    return this.#canonical.has(canonical);
  }
}

/** The set of injectable header names, compiled once per config from every route. */
export class InjectableHeaders {
  readonly #names: CanonicalHeaderNames;

  constructor(identityHeaderNames: Iterable<string>) {
    this.#names = new CanonicalHeaderNames(identityHeaderNames);
  }

  has(name: string): boolean {
    const canonical = canonicalHeaderName(name);
    return this.#names.hasCanonical(canonical) || canonical.startsWith(INJECTED_PREFIX);
  }
}

/**
 * Whether an incoming header (lowercased name) is dropped before forwarding.
 * `listed` are the names the client's Connection header made hop-by-hop.
 */
export function isDroppedHeader(lowerName: string, injectable: InjectableHeaders, listed: ReadonlySet<string> | null): boolean {
  return (
    isHopByHop(lowerName) ||
    REWRITTEN.has(lowerName) ||
    OVERRIDES.has(lowerName) ||
    injectable.has(lowerName) ||
    (listed !== null && listed.has(lowerName))
  );
}
