/**
 * config → Gateway (STYLE §4, Caddy's Provision): everything that can be
 * parsed, compiled or opened ahead of time is, here, once. `portcullis
 * check`, startup and SIGHUP all call this same function. The structural
 * and semantic checks (validate.ts, semantic.ts) have passed already.
 */
import type { GatewayConfig, RouteConfig } from './types.js';
import type { Stage } from '../pipeline/types.js';
import { Gateway, type GatewayDeps, type Resource } from '../pipeline/gateway.js';
import { CompiledRoute } from '../route/compiled-route.js';
import { RouteTable } from '../route/match.js';
import { compileNetPolicy } from '../route/netpolicy.js';
import { InjectableHeaders } from '../route/sanitise.js';
import { TrustedProxies } from '../server/client-ip.js';
import { UpstreamGroup } from '../proxy/upstreams.js';
import { compileAuth, type CompiledAuth } from '../auth/compile.js';
import { RateLimits } from '../ratelimit/compile.js';

export const AUTH_REALM = 'portcullis';
/** The schema's defaults for the object form of `upstream`, applied to the plain-URL form too. */
const DEFAULT_UPSTREAM_TIMEOUT_MS = 30_000;
const DEFAULT_UPSTREAM_RETRIES = 1;

function compileUpstream(route: RouteConfig): UpstreamGroup {
  if (typeof route.upstream === 'string') {
    return new UpstreamGroup([route.upstream], { timeoutMs: DEFAULT_UPSTREAM_TIMEOUT_MS, retries: DEFAULT_UPSTREAM_RETRIES });
  }
  const { targets, timeoutMs, retries } = route.upstream;
  return new UpstreamGroup(targets, { timeoutMs, retries });
}

/** The route's own stage list, in PRODUCT §1 order; a stage a route does not need is not there at all. */
function compileRouteStages(route: RouteConfig, auth: CompiledAuth, rateLimits: RateLimits): Stage[] {
  const stages: Stage[] = [];
  const net = compileNetPolicy(route.allowCidrs, route.denyCidrs);
  if (net !== null) stages.push(net);
  // Deny by default lives in data: a route without `auth: none` gets a token stage.
  if (route.auth !== 'none') stages.push(...auth.stagesFor(route));
  const limit = rateLimits.stageFor(route);
  if (limit !== null) stages.push(limit);
  return stages;
}

/**
 * `previous` is the Gateway being replaced on reload: providers whose key source is unchanged
 * start from its keys instead of refetching (src/auth/compile.ts).
 */
export function compileGateway(cfg: GatewayConfig, deps: GatewayDeps, previous?: Gateway): Gateway {
  const auth = compileAuth(cfg.auth, deps, previous?.resources ?? [], AUTH_REALM);
  const rateLimits = new RateLimits(cfg, deps, previous?.resources ?? []);
  const routes = cfg.routes.map((r) => new CompiledRoute(r, compileRouteStages(r, auth, rateLimits), compileUpstream(r), auth.credentialStrip(r)));
  const identityNames = cfg.routes.flatMap((r) => Object.keys(r.identityHeaders));
  const resources: Resource[] = [...auth.resources, ...rateLimits.resources];
  return new Gateway(
    cfg, new RouteTable(routes), new TrustedProxies(cfg.server.trustedProxies),
    new InjectableHeaders(identityNames), resources, deps,
  );
}
