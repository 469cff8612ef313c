import { parseCidr } from './cidr.js';
import type { PathSegment, Problem } from './messages.js';
import { JWS_ALGORITHMS } from '../auth/schema.js';
import { checkRateLimitConfig } from '../ratelimit/config-check.js';
import { checkWafConfig } from '../waf/config-check.js';
import { checkTlsConfig } from '../tls/config-check.js';
import { checkSignInConfig } from '../session/config-check.js';
import { checkIdentityTokenConfig } from '../identity-token/config-check.js';

/**
 * Second validation pass (STYLE §4): rules a JSON Schema cannot express —
 * URLs and CIDRs parse, names are unique, references resolve, fields agree
 * with each other.
 *
 * It runs even when the schema pass failed, so one run reports every
 * problem. Hence every check reads the document defensively and skips values
 * of the wrong type: the schema pass has already reported those.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});

/** Hop-by-hop (RFC 7230 §6.1) and message-framing headers: setting them from config invites request smuggling. */
const FRAMING_HEADERS = new Set([
  'connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'content-length',
]);
/** Headers the gateway itself sets for the upstream (PRODUCT §4): an identity header must not shadow them. */
const GATEWAY_HEADERS = new Set(['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'traceparent']);

const HS_ALGORITHM = /^HS(256|384|512)$/;
const KNOWN_ALGORITHMS = new Set<unknown>(JWS_ALGORITHMS);
const HS_SECRET_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };
/** RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/** Lowercase LDH labels, optionally after a leading `*.` wildcard (RFC 1123 §2.1). */
const HOST_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const URL_LIKE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** Every semantic problem of `doc` (with schema defaults applied), in no particular order. */
export function checkSemantics(doc: unknown): Problem[] {
  const problems: Problem[] = [];
  const report = (path: readonly PathSegment[], message: string) => problems.push({ path, message });
  if (!isObj(doc)) return problems;

  const server = obj(doc.server);
  checkCidrs(list(server.trustedProxies), ['server', 'trustedProxies'], report);
  const tracing = obj(doc.tracing);
  checkCidrs(list(tracing.trustParentFrom), ['tracing', 'trustParentFrom'], report);
  if (typeof tracing.endpoint === 'string' && URL_LIKE.test(tracing.endpoint) && !URL.canParse(tracing.endpoint)) {
    report(['tracing', 'endpoint'], 'must be a valid http(s) URL');
  }
  const limits = obj(server.limits);
  // node:http refuses to start when headersTimeout > requestTimeout; say so at load time instead.
  if (typeof limits.headersTimeoutMs === 'number' && typeof limits.requestTimeoutMs === 'number'
    && limits.headersTimeoutMs > limits.requestTimeoutMs) {
    report(['server', 'limits', 'headersTimeoutMs'], `must not exceed requestTimeoutMs (${limits.requestTimeoutMs})`);
  }

  checkListeners(obj(doc.listeners), report);
  const providerNames = checkProviders(list(obj(doc.auth).providers), report);
  checkRoutes(list(doc.routes), providerNames, report);
  checkRateLimitConfig(doc, report);
  checkWafConfig(doc, report);
  checkTlsConfig(doc, report);
  checkSignInConfig(doc, report);
  checkIdentityTokenConfig(doc, report);
  return problems;
}

type Report = (path: readonly PathSegment[], message: string) => void;

function checkCidrs(cidrs: unknown[], at: PathSegment[], report: Report): void {
  cidrs.forEach((c, i) => {
    if (typeof c === 'string' && c !== '' && parseCidr(c) === null) {
      report([...at, i], 'must be an IP address or CIDR block such as 10.0.0.0/8 or fd00::/8');
    }
  });
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

function checkListeners(listeners: Obj, report: Report): void {
  // Port 0 is exempt: each such listener gets its own ephemeral port.
  const bound: { name: string; host: string; port: number }[] = [];
  for (const [name, l] of Object.entries(listeners)) {
    if (!isObj(l) || typeof l.host !== 'string' || typeof l.port !== 'number' || l.port === 0) continue;
    const { host, port } = l;
    // A wildcard address takes the port on every interface, so it clashes with any host.
    const clash = bound.find((b) => b.port === port && (b.host === host || WILDCARD_HOSTS.has(b.host) || WILDCARD_HOSTS.has(host)));
    if (clash) report(['listeners', name, 'port'], `${host}:${port} clashes with listeners.${clash.name} (${clash.host}:${clash.port})`);
    else bound.push({ name, host, port });
  }
}

/** Checks auth.providers and returns the names routes may refer to. */
function checkProviders(providers: unknown[], report: Report): Set<string> {
  const names = new Map<string, number>();
  const issuers = new Map<string, number>();
  providers.forEach((p, i) => {
    if (!isObj(p)) return;
    const at = (...rest: PathSegment[]) => ['auth', 'providers', i, ...rest];
    if (typeof p.name === 'string') {
      const first = names.get(p.name);
      if (first !== undefined) report(at('name'), `duplicate provider name "${p.name}" (also auth.providers[${first}])`);
      else names.set(p.name, i);
    }
    if (typeof p.issuer === 'string' && p.issuer !== '') {
      // `iss` selects the provider (PRODUCT §1.7): two providers with one issuer would be ambiguous.
      const first = issuers.get(p.issuer);
      if (first !== undefined) report(at('issuer'), `duplicate issuer (also auth.providers[${first}])`);
      else issuers.set(p.issuer, i);
      if (p.discovery === true ? httpUrlProblem(p.issuer) !== null : URL_LIKE.test(p.issuer) && !URL.canParse(p.issuer)) {
        report(at('issuer'), p.discovery === true ? 'must be an http(s) URL when discovery is true' : 'must be a valid URL');
      }
    }
    if (typeof p.jwksUri === 'string' && p.jwksUri !== '') {
      const problem = httpUrlProblem(p.jwksUri);
      if (problem !== null) report(at('jwksUri'), problem);
    }
    if (isObj(p.introspection)) {
      const endpoint = p.introspection.endpoint;
      if (typeof endpoint === 'string' && endpoint !== '') {
        const problem = httpUrlProblem(endpoint);
        if (problem !== null) report(at('introspection', 'endpoint'), problem);
      } else if (endpoint === undefined && p.discovery !== true) {
        report(at('introspection', 'endpoint'), 'is required unless discovery is true (then the discovery document\'s introspection_endpoint is used)');
      }
    }
    const sources = (['discovery', 'jwksUri', 'jwksFile', 'secret'] as const).filter((k) =>
      k === 'discovery' ? p.discovery === true : p[k] !== undefined);
    if (sources.length !== 1) {
      const found = sources.length === 0 ? 'none is set' : `found ${sources.join(', ')}`;
      report(at(), `must set exactly one of discovery: true, jwksUri, jwksFile or secret (${found})`);
    }
    // An HMAC secret must never verify RS*/ES* tokens (key confusion), and HS* without a secret has no key.
    // Only known names: the schema already reports the others ('none', typos).
    const algorithms = list(p.algorithms).filter((a): a is string => KNOWN_ALGORITHMS.has(a));
    if (p.secret !== undefined && algorithms.some((a) => !HS_ALGORITHM.test(a))) {
      report(at('algorithms'), 'must list only HS256, HS384 or HS512 when secret is set');
    } else if (p.secret === undefined && algorithms.some((a) => HS_ALGORITHM.test(a))) {
      report(at('algorithms'), 'HS256, HS384 and HS512 require secret');
    }
    // RFC 7518 §3.2: an HMAC key at least as long as the hash output (the schema already reports under 32 characters).
    if (typeof p.secret === 'string' && p.secret.length >= 32) {
      const bytes = Buffer.byteLength(p.secret);
      const needed = Math.max(0, ...algorithms.map((a) => HS_SECRET_BYTES[a] ?? 0));
      if (bytes < needed) report(at('secret'), `must be at least ${needed} bytes for ${algorithms.filter((a) => (HS_SECRET_BYTES[a] ?? 0) > bytes).join(', ')}`);
    }
  });
  return new Set(names.keys());
}

function checkRoutes(routes: unknown[], providers: Set<string>, report: Report): void {
  const names = new Map<string, number>();
  routes.forEach((r, i) => {
    if (!isObj(r)) return;
    const at = (...rest: PathSegment[]) => ['routes', i, ...rest];
    if (typeof r.name === 'string') {
      const first = names.get(r.name);
      if (first !== undefined) report(at('name'), `duplicate route name "${r.name}" (also routes[${first}])`);
      else names.set(r.name, i);
    }
    const match = obj(r.match);
    list(match.hosts).forEach((h, j) => {
      if (typeof h === 'string' && h !== '') {
        const problem = hostProblem(h);
        if (problem !== null) report(at('match', 'hosts', j), problem);
      }
    });
    for (const key of ['path', 'exactPath'] as const) checkPath(match[key], at('match', key), report);
    checkPath(r.stripPrefix, at('stripPrefix'), report);

    if (typeof r.upstream === 'string') {
      const problem = httpUrlProblem(r.upstream);
      if (problem !== null) report(at('upstream'), problem);
    } else if (isObj(r.upstream)) {
      list(r.upstream.targets).forEach((t, j) => {
        const problem = typeof t === 'string' ? httpUrlProblem(t) : null;
        if (problem !== null) report(at('upstream', 'targets', j), problem);
      });
    } else if (r.upstream === undefined && r.websocket === true) {
      // The upgrade is proxied to the upstream: without one the route is forward-auth only.
      report(at('websocket'), 'needs an upstream (a route without one serves the forward-auth shape only)');
    }

    if (isObj(r.auth)) {
      list(r.auth.providers).forEach((p, j) => {
        if (typeof p === 'string' && !providers.has(p)) report(at('auth', 'providers', j), `unknown provider "${p}"`);
      });
      // A scope with a space could never match a space-separated `scope` claim, and a quote would break the
      // RFC 6750 §3 `scope="…"` attribute of the 403 challenge.
      list(r.auth.scopes).forEach((sc, j) => {
        if (typeof sc === 'string' && sc !== '' && !SCOPE_TOKEN.test(sc)) report(at('auth', 'scopes', j), 'must be a scope token (RFC 6749 §3.3: visible ASCII without spaces, quotes or backslashes)');
      });
    }
    checkCidrs(list(r.allowCidrs), at('allowCidrs'), report);
    checkCidrs(list(r.denyCidrs), at('denyCidrs'), report);

    checkHeaderNames(Object.keys(obj(r.identityHeaders)), at('identityHeaders'), report, (lower) =>
      FRAMING_HEADERS.has(lower) || GATEWAY_HEADERS.has(lower) ? 'is set by the gateway itself and cannot be an identity header' : null);
    const requestHeaders = obj(r.requestHeaders);
    checkHeaderNames(Object.keys(obj(requestHeaders.set)), at('requestHeaders', 'set'), report, (lower) =>
      FRAMING_HEADERS.has(lower) ? 'is a hop-by-hop or framing header and cannot be set' : null);
  });
}

/** Header names are case-insensitive: `X-User` and `x-user` in one map would fight. */
function checkHeaderNames(names: string[], at: PathSegment[], report: Report, reserved: (lower: string) => string | null): void {
  const seen = new Set<string>();
  for (const name of names) {
    const lower = name.toLowerCase();
    const problem = seen.has(lower) ? 'duplicate header name (header names are case-insensitive)' : reserved(lower);
    if (problem !== null) report([...at, name], problem);
    seen.add(lower);
  }
}

/**
 * Route paths are compared with the normalised request path (PRODUCT §1.4),
 * so a path that normalisation would change could never match.
 */
function checkPath(value: unknown, at: PathSegment[], report: Report): void {
  if (typeof value !== 'string' || !value.startsWith('/')) return; // the schema reports those
  if (/\/\/|\/\.{1,2}(\/|$)|[?#\\\s]/.test(value)) {
    report(at, 'must be a normalised path (no "//", "." or ".." segments, "?", "#", "\\" or whitespace)');
  }
}

function hostProblem(h: string): string | null {
  if (URL_LIKE.test(h)) return 'must be a host name, not a URL';
  if (h.includes(':')) return 'must be a host name without a port';
  if (h !== h.toLowerCase()) return 'must be lowercase';
  if (h.length > 253 || !HOST_NAME.test(h)) return 'must be a DNS name or a *. wildcard such as *.example.com';
  return null;
}

/** null when `s` is an http(s) URL with a host and without credentials, query or fragment. */
function httpUrlProblem(s: string): string | null {
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return 'must be an http(s) URL';
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') return 'must be an http(s) URL';
  // Credentials would be sent to every request's upstream and end up in logs; say where to put them instead.
  if (url.username !== '' || url.password !== '') return 'must be an http(s) URL without credentials (use requestHeaders.set)';
  // `http://x/?` has an empty .search, so look at the text too.
  if (url.search !== '' || url.hash !== '' || s.includes('?') || s.includes('#')) return 'must be an http(s) URL without query or fragment';
  return null;
}
