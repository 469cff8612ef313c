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
import { RequireTokenStage } from '../auth/require-token.js';

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
function compileRouteStages(route: RouteConfig): Stage[] {
  const stages: Stage[] = [];
  const net = compileNetPolicy(route.allowCidrs, route.denyCidrs);
  if (net !== null) stages.push(net);
  // Deny by default lives in data: a route without `auth: none` gets a token stage.
  if (route.auth !== 'none') stages.push(new RequireTokenStage(AUTH_REALM));
  return stages;
}

export function compileGateway(cfg: GatewayConfig, deps: GatewayDeps): Gateway {
  const routes = cfg.routes.map((r) => new CompiledRoute(r, compileRouteStages(r), compileUpstream(r)));
  const identityNames = cfg.routes.flatMap((r) => Object.keys(r.identityHeaders));
  const resources: Resource[] = [];
  return new Gateway(
    cfg, new RouteTable(routes), new TrustedProxies(cfg.server.trustedProxies),
    new InjectableHeaders(identityNames), resources, deps,
  );
}
