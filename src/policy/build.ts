/**
 * The report from a validated config and its compiled route table (main.ts's `check` path:
 * config/ validates, compile/ builds): defaults are the ones the gateway itself applies, so the
 * report says what runs, not what the file happens to spell out.
 */
import { basename } from 'node:path';
import type { GatewayConfig, ProviderConfig, RouteConfig } from '../config/types.js';
import { DEV_ISSUER } from '../auth/dev-token.js';
import { WAF_DEFAULTS } from '../waf/schema.js';
import { REPORT_VERSION, type ListenerReport, type PolicyReport, type ProviderReport, type RouteReport } from './model.js';
import { warningsOf } from './warnings.js';
import { cmp, isExposed } from './compare.js';

/** `stages[i]`: the compiled stage names of `cfg.routes[i]`. */
export function buildReport(cfg: GatewayConfig, stages: readonly (readonly string[])[]): PolicyReport {
  const listeners = listenersOf(cfg);
  const providers = (cfg.auth?.providers ?? []).map(providerOf).sort((a, b) => cmp(a.name, b.name));
  const routes = cfg.routes.map((r, i) => routeOf(cfg, r, i, stages[i] ?? []));
  const partial = {
    version: REPORT_VERSION,
    server: { trustedProxies: [...cfg.server.trustedProxies], stripIdentityHeaders: [...cfg.server.stripIdentityHeaders] },
    listeners,
    providers,
    routes,
  };
  return { ...partial, warnings: warningsOf(cfg, partial) };
}

function listenersOf(cfg: GatewayConfig): ListenerReport[] {
  const l = cfg.listeners;
  const out: ListenerReport[] = [];
  const plain = (name: string, host: string, port: number): ListenerReport =>
    ({ name, host, port, exposed: isExposed(host), tls: false, clientCert: 'none' });
  if (l.http) out.push(plain('http', l.http.host, l.http.port));
  if (l.https) out.push({ ...plain('https', l.https.host, l.https.port), tls: true, clientCert: clientCertOf(l.https.clientCa, l.https.requireClientCert) });
  if (l.auth) {
    out.push({ ...plain('auth', l.auth.host, l.auth.port), tls: l.auth.cert !== undefined, clientCert: clientCertOf(l.auth.clientCa, l.auth.requireClientCert) });
  }
  // Envoy ext_authz over gRPC: the same decisions as listeners.auth, so the same exposure.
  const grpc = l.authGrpc;
  if (grpc) out.push({ ...plain('authGrpc', grpc.host, grpc.port), tls: grpc.cert !== undefined, clientCert: clientCertOf(grpc.clientCa, grpc.requireClientCert) });
  if (l.admin) out.push(plain('admin', l.admin.host, l.admin.port));
  if (l.demo) out.push(plain('demo', l.demo.host, l.demo.port));
  return out.sort((a, b) => cmp(a.name, b.name));
}

function clientCertOf(ca: string | undefined, required: boolean | undefined): ListenerReport['clientCert'] {
  if (ca === undefined) return 'none';
  return required === true ? 'required' : 'optional';
}

function providerOf(p: ProviderConfig): ProviderReport {
  const keys = p.secret !== undefined ? 'secret' : p.jwksFile !== undefined ? 'jwksFile' : p.jwksUri !== undefined ? 'jwksUri' : 'discovery';
  return {
    name: p.name,
    issuer: p.issuer,
    algorithms: [...p.algorithms].sort(),
    audiences: [...(p.audiences ?? [])].sort(),
    keys,
    introspection: p.introspection !== undefined,
    signIn: p.client !== undefined,
    devKey: p.issuer === DEV_ISSUER || (p.jwksFile !== undefined && basename(p.jwksFile) === 'dev-jwks.json'),
  };
}

function routeOf(cfg: GatewayConfig, r: RouteConfig, i: number, stages: readonly string[]): RouteReport {
  const m = r.match;
  const policyName = r.rateLimit;
  const policy = policyName === undefined ? undefined : cfg.rateLimits?.policies[policyName];
  const auth = r.auth;
  return {
    order: i + 1,
    name: r.name,
    hosts: m.hosts === undefined || m.hosts.length === 0 ? ['*'] : [...m.hosts].map((h) => h.toLowerCase()).sort(),
    path: m.exactPath !== undefined ? `= ${m.exactPath}` : m.path ?? '/',
    methods: m.methods === undefined || m.methods.length === 0 ? ['*'] : [...m.methods].sort(),
    network: { allow: [...r.allowCidrs].sort(), deny: [...r.denyCidrs].sort() },
    auth: auth === 'none'
      ? { mode: 'none', providers: [], scopes: [], roles: [], claims: {}, clientCert: null, login: null }
      : {
        mode: 'token',
        providers: auth?.providers === undefined || auth.providers.length === 0 ? ['*'] : [...auth.providers].sort(),
        scopes: [...(auth?.scopes ?? [])].sort(),
        roles: [...(auth?.roles ?? [])].sort(),
        claims: { ...(auth?.claims ?? {}) },
        clientCert: auth?.clientCert === undefined ? null : { subjects: [...(auth.clientCert.subjects ?? [])].sort(), sans: [...(auth.clientCert.sans ?? [])].sort() },
        login: auth?.login ?? null,
      },
    rateLimit: policyName === undefined || policy === undefined
      ? null
      : { policy: policyName, key: policy.key, capacity: policy.capacity, refillPerSecond: policy.refillPerSecond },
    waf: { mode: r.waf ?? cfg.waf?.mode ?? WAF_DEFAULTS.mode, exclusions: exclusionsOf(cfg, r.name) },
    identityHeaders: { ...r.identityHeaders },
    forwardAuthorization: r.forwardAuthorization,
    upstream: upstreamOf(r),
    stages: [...stages],
  };
}

function exclusionsOf(cfg: GatewayConfig, route: string): string[] {
  const out: string[] = [];
  for (const e of cfg.waf?.exclusions ?? []) {
    if (e.route === undefined || e.route === route) out.push(`${[...e.rules].sort((a, b) => a - b).join(',')}@${e.target ?? '*'}${e.route === undefined ? ' (all routes)' : ''}`);
  }
  for (const text of cfg.waf?.crs?.exclusions ?? []) out.push(`crs: ${text}`);
  return out.sort();
}

function upstreamOf(r: RouteConfig): string[] {
  if (r.upstream === undefined) return [];
  return typeof r.upstream === 'string' ? [r.upstream] : [...r.upstream.targets];
}
