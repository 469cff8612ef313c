/**
 * What an auditor wants flagged (docs/policy.md, "Warnings"). Each warning has a stable `code`
 * that CI may match on; codes are never reused for another meaning. Severity: `high` lets someone
 * in who should not be, `medium` weakens a defence, `low` is worth a look.
 */
import { parseCidr } from '../config/cidr.js';
import type { GatewayConfig } from '../config/types.js';
import type { PolicyReport, Severity, Warning } from './model.js';
import { cmp } from './compare.js';

/**
 * First path segments that are anonymous by their nature: assets, health probes, discovery
 * documents, sign-in pages. An `auth: none` route on any other prefix (or on every path) is the
 * classic misconfiguration: a public route meant for `/public` written for `/`.
 */
const PUBLIC_SEGMENTS = new Set([
  'public', 'static', 'assets', 'css', 'js', 'img', 'images', 'fonts', 'favicon.ico', 'robots.txt',
  'health', 'healthz', 'livez', 'readyz', 'ping', 'status', '.well-known',
  'login', 'logout', 'signin', 'sign-in', 'signout', 'sign-out', 'oauth2', 'callback', '.portcullis',
]);

/** Narrower than this is a proxy range; wider (a /8, 0.0.0.0/0) trusts whole networks to name the client. */
const BROAD_PREFIX = { ipv4: 16, ipv6: 48 } as const;

type Partial = Omit<PolicyReport, 'warnings'>;

export function warningsOf(cfg: GatewayConfig, report: Partial): Warning[] {
  const out: Warning[] = [];
  const add = (code: string, severity: Severity, where: string, message: string): void => { out.push({ code, severity, where, message }); };

  for (const cidr of cfg.server.trustedProxies) {
    const c = parseCidr(cidr);
    if (c === null || c.prefix >= BROAD_PREFIX[c.family]) continue;
    add('trusted-proxies-broad', c.prefix === 0 ? 'high' : 'medium', 'server',
      `server.trustedProxies has ${cidr}: every address in it may set X-Forwarded-For (the client address of rate limits and allowCidrs) and, on the auth listener, X-Forwarded-Host/-Proto`);
  }

  for (const l of report.listeners) {
    if (l.name === 'admin' && l.exposed) {
      add('admin-listener-exposed', 'high', 'listener:admin', `the admin listener (/metrics, /healthz, /readyz) listens on ${l.host}, not loopback`);
    }
    if (l.name === 'http' && l.exposed && cfg.listeners.http?.redirectToHttps !== true) {
      add('listener-without-tls', 'medium', 'listener:http', `plain HTTP on ${l.host}:${l.port} serves routes (redirectToHttps is off): tokens and cookies cross the network in clear`);
    }
    if ((l.name === 'auth' || l.name === 'authGrpc') && l.exposed && !l.tls) {
      add('listener-without-tls', 'medium', `listener:${l.name}`, `the ${l.name} listener on ${l.host}:${l.port} is plain ${l.name === 'auth' ? 'HTTP' : 'gRPC (h2c)'}: every caller's Authorization and Cookie headers cross the network in clear (listeners.${l.name}.cert)`);
    }
    if (l.name === 'demo' && l.exposed) {
      add('demo-listener-exposed', 'medium', 'listener:demo', `the demo echo upstream listens on ${l.host}: it answers every request with the headers it received`);
    }
  }
  if (cfg.listeners.auth?.trustOriginalUrl === true) {
    add('trust-original-url', 'low', 'listener:auth', 'listeners.auth.trustOriginalUrl is true: X-Original-URL (its host picks host-bound routes) is believed from every trusted caller; right only when each caller overwrites it (ingress-nginx)');
  }

  for (const p of report.providers) {
    if (p.devKey) add('dev-key-trusted', 'high', `provider:${p.name}`, `provider "${p.name}" trusts the Portcullis dev key, whose private half is public: anyone can mint its tokens`);
    if (p.audiences.length === 0 && p.keys !== 'secret') {
      add('provider-without-audience', 'medium', `provider:${p.name}`, `provider "${p.name}" has no audiences: a token the issuer minted for any other service is accepted here`);
    }
  }

  for (const r of report.routes) {
    const where = `route:${r.name}`;
    if (r.auth.mode === 'none' && !publicPath(r.path)) {
      add('auth-none-private-path', 'high', where, `route "${r.name}" is anonymous (auth: none) on ${r.path === '/' ? 'every path' : r.path}, which is not a public prefix`);
    }
    if (r.rateLimit === null) {
      add('route-without-rate-limit', r.auth.mode === 'none' ? 'medium' : 'low', where, `route "${r.name}" has no rate limit`);
    }
    if (r.waf.mode !== 'block') {
      add(`waf-${r.waf.mode}`, r.waf.mode === 'off' ? 'medium' : 'low', where, `route "${r.name}" runs the WAF in mode ${r.waf.mode}: attacks are ${r.waf.mode === 'off' ? 'not inspected' : 'logged, not blocked'}`);
    }
  }
  return out.sort((a, b) => cmp(a.code, b.code) || cmp(a.where, b.where) || cmp(a.message, b.message));
}

/** `/public/x`, `= /healthz`: the first segment is one of PUBLIC_SEGMENTS; `/` never is. */
function publicPath(path: string): boolean {
  const p = path.startsWith('= ') ? path.slice(2) : path;
  const first = p.split('/')[1] ?? '';
  return PUBLIC_SEGMENTS.has(first.toLowerCase());
}
