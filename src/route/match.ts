/**
 * Route matching (PRODUCT §1.5): the first route, in config order, whose
 * host, path and method all match. No match is a 404 (deny by default).
 * Matchers are built once per config load; a request only runs them.
 */
import { segmentPrefixMatch } from './normalise.js';
import type { RouteMatchConfig } from '../config/types.js';

export interface Matchable {
  readonly matcher: RouteMatcher;
}

export class RouteMatcher {
  readonly #exactHosts: ReadonlySet<string> | null;
  /** `*.example.com` is kept as `.example.com`: any subdomain depth, never the apex. */
  readonly #wildcardSuffixes: readonly string[];
  readonly #prefix: string | null;
  readonly #exactPath: string | null;
  readonly #methods: ReadonlySet<string> | null;

  constructor(match: RouteMatchConfig) {
    const hosts = match.hosts ?? [];
    this.#exactHosts = hosts.length ? new Set(hosts.filter((h) => !h.startsWith('*.'))) : null;
    this.#wildcardSuffixes = hosts.filter((h) => h.startsWith('*.')).map((h) => h.slice(1));
    this.#prefix = match.path ?? null;
    this.#exactPath = match.exactPath ?? null;
    const methods = match.methods ?? [];
    // A route that allows GET also answers HEAD, as every HTTP server does.
    this.#methods = methods.length ? new Set(methods.includes('GET') ? [...methods, 'HEAD'] : methods) : null;
  }

  matches(host: string, method: string, path: string): boolean {
    if (this.#methods !== null && !this.#methods.has(method)) return false;
    if (this.#exactPath !== null) {
      if (path !== this.#exactPath) return false;
    } else if (this.#prefix !== null && !segmentPrefixMatch(path, this.#prefix)) {
      return false;
    }
    return this.#exactHosts === null || this.#hostMatches(host);
  }

  #hostMatches(host: string): boolean {
    if (this.#exactHosts!.has(host)) return true;
    for (const suffix of this.#wildcardSuffixes) {
      if (host.length > suffix.length && host.endsWith(suffix)) return true;
    }
    return false;
  }
}

export class RouteTable<R extends Matchable> {
  readonly routes: readonly R[];

  constructor(routes: readonly R[]) {
    this.routes = routes;
  }

  match(host: string, method: string, path: string): R | null {
    // Match on the path as Java servers read it: `/admin;x/secret` is `/admin/secret`,
    // so a route for `/admin/secret` cannot be skipped with a matrix parameter.
    if (path.includes(';')) path = withoutPathParams(path);
    for (const route of this.routes) {
      if (route.matcher.matches(host, method, path)) return route;
    }
    return null;
  }
}

/** `/a;x=1/b;y` → `/a/b`: each segment's `;parameters` removed (RFC 3986 §3.3). */
export function withoutPathParams(path: string): string {
  let out = '';
  let i = 0;
  while (i < path.length) {
    const semi = path.indexOf(';', i);
    if (semi < 0) return out + path.slice(i);
    out += path.slice(i, semi);
    const slash = path.indexOf('/', semi);
    if (slash < 0) return out;
    i = slash;
  }
  return out;
}

/** `stripPrefix` applied to a normalised path; the prefix was matched on a segment boundary. */
export function stripPathPrefix(path: string, prefix: string | null): string {
  if (prefix === null || !segmentPrefixMatch(path, prefix)) return path;
  const rest = path.slice(prefix.endsWith('/') ? prefix.length - 1 : prefix.length);
  return rest === '' ? '/' : rest.startsWith('/') ? rest : '/' + rest;
}
