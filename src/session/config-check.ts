/**
 * Semantic rules of sign-in the JSON Schema cannot express (STYLE §4, second pass): a login route
 * names a provider with a `client`, `sessions` exists when anything signs in, the Redis store has
 * a `redis` block, the redirectUri is the callback path, idleTtlSec fits in ttlSec. Like
 * config/semantic.ts it reads the document defensively.
 */
import type { PathSegment } from '../config/messages.js';
import { SESSION_DEFAULTS, SESSIONS_SCHEMA } from './schema.js';

type Obj = Record<string, unknown>;
type Report = (path: readonly PathSegment[], message: string) => void;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const PREFIX = new RegExp(SESSIONS_SCHEMA.properties.pathPrefix.pattern);

export function checkSignInConfig(doc: Obj, report: Report): void {
  const sessions = isObj(doc.sessions) ? doc.sessions : null;
  // A prefix the schema refused (reported there) checks no redirectUri.
  const prefix = typeof sessions?.pathPrefix === 'string' ? sessions.pathPrefix : SESSION_DEFAULTS.pathPrefix;
  const prefixOk = PREFIX.test(prefix);
  const withClient = new Set<string>();
  const providers = isObj(doc.auth) ? list(doc.auth.providers) : [];
  providers.forEach((p, i) => {
    if (!isObj(p) || !isObj(p.client)) return;
    if (typeof p.name === 'string') withClient.add(p.name);
    if (sessions === null) report(['auth', 'providers', i, 'client'], 'needs the top-level sessions block');
    // OIDC Core §3.1.2.1: without openid it is plain OAuth, and no ID token comes back.
    if (Array.isArray(p.client.scopes) && !p.client.scopes.includes('openid')) report(['auth', 'providers', i, 'client', 'scopes'], 'must include openid');
    const uri = p.client.redirectUri;
    if (prefixOk && typeof uri === 'string' && URL.canParse(uri) && new URL(uri).pathname !== `${prefix}/callback`) {
      report(['auth', 'providers', i, 'client', 'redirectUri'], `must have the path ${prefix}/callback (sessions.pathPrefix + /callback)`);
    }
  });
  list(doc.routes).forEach((r, i) => {
    if (!isObj(r) || !isObj(r.auth) || typeof r.auth.login !== 'string') return;
    const login = r.auth.login;
    const at: PathSegment[] = ['routes', i, 'auth', 'login'];
    if (!withClient.has(login)) report(at, `provider "${login}" must exist in auth.providers and have a client`);
    else if (sessions === null) report(at, 'needs the top-level sessions block');
    const accepted = r.auth.providers;
    if (Array.isArray(accepted) && !accepted.includes(login)) report(at, `provider "${login}" must be one of this route's auth.providers`);
  });
  if (sessions === null) return;
  if (sessions.store === 'redis' && !isObj(doc.redis)) report(['sessions', 'store'], '"redis" needs the top-level redis block');
  if (typeof sessions.idleTtlSec === 'number' && typeof sessions.ttlSec === 'number' && sessions.idleTtlSec > sessions.ttlSec) {
    report(['sessions', 'idleTtlSec'], `must not exceed ttlSec (${sessions.ttlSec})`);
  }
}
