/**
 * config → Gateway (STYLE §4, Caddy's Provision): everything that can be
 * parsed, compiled or opened ahead of time is, here, once. `portcullis
 * check`, startup and SIGHUP all call this same function. The structural
 * and semantic checks (validate.ts, semantic.ts) have passed already.
 */
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import type { Stage } from '../contract/types.js';
import { Gateway } from '../pipeline/gateway.js';
import type { GatewayDeps, Resource } from '../contract/types.js';
import { CompiledRoute } from '../route/compiled-route.js';
import { RouteTable } from '../route/match.js';
import { compileNetPolicy } from '../route/netpolicy.js';
import { InjectableHeaders } from '../route/sanitise.js';
import { TrustedProxies } from '../route/client-ip.js';
import { UpstreamGroup } from '../upstream/group.js';
import { compileAuth, type CompiledAuth } from '../auth/compile.js';
import { importAuthModules } from '../auth/optional.js';
import { RateLimits } from '../ratelimit/compile.js';
import { UpstreamTls } from '../upstream/tls.js';
import { compileClientCertStage } from '../tls/client-auth.js';
import { importCrsEngine, WafPolicy } from '../waf/compile.js';
import type { CompiledSignIn } from '../session/compile.js';
import { compileIdentityTokens, identityTokenHeaders, type CompiledIdentityTokens } from '../identity-token/compile.js';

export const AUTH_REALM = 'portcullis';
/** The schema's defaults for the object form of `upstream`, applied to the plain-URL form too. */
const DEFAULT_UPSTREAM_TIMEOUT_MS = 30_000;
const DEFAULT_UPSTREAM_RETRIES = 1;

/**
 * https targets get an UpstreamTls (fixed server name, optional CA and client certificate), also a gateway resource.
 * No `upstream`: a group without targets (no pools), the mark of a forward-auth-only route.
 */
function compileUpstream(route: RouteConfig, deps: GatewayDeps, resources: Resource[]): UpstreamGroup {
  if (route.upstream === undefined) return new UpstreamGroup([], { timeoutMs: DEFAULT_UPSTREAM_TIMEOUT_MS, retries: 0 });
  const targets = typeof route.upstream === 'string' ? [route.upstream] : route.upstream.targets;
  let tls: UpstreamTls | null = null;
  if (targets.some((t) => t.toLowerCase().startsWith('https:'))) {
    tls = new UpstreamTls(route.name, typeof route.upstream === 'string' ? null : route.upstream.tls ?? null, deps.logger);
    resources.push(tls);
  }
  if (typeof route.upstream === 'string') {
    return new UpstreamGroup(targets, { timeoutMs: DEFAULT_UPSTREAM_TIMEOUT_MS, retries: DEFAULT_UPSTREAM_RETRIES }, tls);
  }
  const { timeoutMs, retries } = route.upstream;
  return new UpstreamGroup(targets, { timeoutMs, retries }, tls);
}

/** The route's own stage list, in PRODUCT §1 order; a stage a route does not need is not there at all. */
function compileRouteStages(
  route: RouteConfig, auth: CompiledAuth, signIn: CompiledSignIn | null, rateLimits: RateLimits, waf: WafPolicy, identityTokens: CompiledIdentityTokens, deps: GatewayDeps,
): Stage[] {
  const stages: Stage[] = [];
  const net = compileNetPolicy(route.allowCidrs, route.denyCidrs);
  if (net !== null) stages.push(net);
  // Deny by default lives in data: a route without `auth: none` gets a token stage — unless its
  // auth is a TLS client certificate alone (tls/client-auth.ts).
  if (route.auth !== 'none') {
    const cert = compileClientCertStage(route, deps.metrics);
    if (cert !== null) stages.push(cert);
    if (cert === null || cert.withToken) {
      const authStages = auth.stagesFor(route);
      stages.push(...(signIn === null ? authStages : signIn.wrap(route, authStages)));
    }
  }
  const limit = rateLimits.stageFor(route);
  if (limit !== null) stages.push(limit);
  // WAF last (PRODUCT §1.10): requests already refused cost no inspection and read no body.
  const inspect = waf.stageFor(route);
  if (inspect !== null) stages.push(inspect);
  // Signed last: a request any stage refuses costs no signature.
  const idToken = identityTokens.stageFor(route);
  if (idToken !== null) stages.push(idToken);
  return stages;
}

/**
 * `previous` is the Gateway being replaced on reload: providers whose key source is unchanged
 * start from its keys instead of refetching (src/auth/compile.ts), and the per-client in-flight
 * counts carry on (pipeline/client-inflight.ts).
 *
 * Async only for the imports: the code of sign-in, DPoP, introspection and the CRS engine is
 * loaded when this config uses them (issue 17 item 4: a config that does not, does not pay their
 * memory), here, before anything is compiled; what follows, and every request, is synchronous.
 */
export async function compileGateway(cfg: GatewayConfig, deps: GatewayDeps, previous?: Gateway): Promise<Gateway> {
  const [authModules, crs, session] = await Promise.all([
    importAuthModules(cfg),
    cfg.waf?.crs === undefined ? null : importCrsEngine(),
    cfg.sessions === undefined ? null : import('../session/compile.js'),
  ]);
  const rateLimits = new RateLimits(cfg, deps, previous?.resources ?? []);
  // The brute-force brake counts in the rate limits' Redis, when there is one (shared by all instances).
  const auth = compileAuth(cfg.auth, deps, previous?.resources ?? [], AUTH_REALM, rateLimits.sharedRedis, cfg.rateLimits?.failMode !== 'closed', authModules);
  const waf = new WafPolicy(cfg, deps, crs);
  const signIn = session?.compileSignIn(cfg, deps, auth.providers, auth.sources) ?? null;
  const identityTokens = compileIdentityTokens(cfg);
  const resources: Resource[] = [...auth.resources, ...rateLimits.resources, ...(signIn?.resources ?? []), ...identityTokens.resources];
  const routes = cfg.routes.map((r) => new CompiledRoute(r, compileRouteStages(r, auth, signIn, rateLimits, waf, identityTokens, deps), compileUpstream(r, deps, resources), signIn?.credentialStrip(r) ?? auth.credentialStrip(r)));
  // The route's own identity headers and the well-known names other auth proxies set (issue 22 §9).
  // Plus the identity-token headers, and the forwarded client certificate (RFC 8705): the gateway
  // consumes it, and from an untrusted peer it is a forgery.
  const forwardedCert = cfg.auth?.certificateBound?.forwardedCertHeader;
  const identityNames = [
    ...cfg.routes.flatMap((r) => Object.keys(r.identityHeaders)), ...cfg.server.stripIdentityHeaders,
    ...identityTokenHeaders(cfg), ...(forwardedCert === undefined ? [] : [forwardedCert]),
  ];
  return new Gateway(
    cfg, new RouteTable(routes), new TrustedProxies(cfg.server.trustedProxies),
    new InjectableHeaders(identityNames), resources, deps, previous?.clientInFlight, signIn?.endpoints ?? null,
  );
}
