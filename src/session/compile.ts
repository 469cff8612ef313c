/**
 * `sessions` + the providers' `client` + routes' `auth.login` → the sign-in part of a Gateway
 * (STYLE §4: compiled once): the shared SignIn, its endpoints, the resources the gateway waits
 * for and closes (each login provider's discovery document, the store), and the wrapping of a
 * login route's token stage. Semantic checks (config-check.ts) have made sure every reference
 * resolves.
 */
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import type { GatewayDeps, Resource } from '../contract/types.js';
import type { Stage } from '../contract/types.js';
import type { Provider } from '../auth/provider.js';
import type { TokenSources } from '../auth/token-source.js';
import { CredentialStrip } from '../auth/strip.js';
import { chunkName, MAX_CHUNKS } from './cookies.js';
import { connectRedis } from '../ratelimit/redis-client.js';
import { CookieSessionStore } from './cookie-store.js';
import { SignInEndpoints } from './endpoints.js';
import { MemoryUsedStates, FLOW_TTL_SEC, type UsedStates } from './flow.js';
import { LoginProvider } from './login-provider.js';
import { RedisSessionStore } from './redis-store.js';
import { Sealer } from './sealer.js';
import { SignIn } from './sign-in.js';
import { SessionStage } from './stage.js';
import type { SessionStore } from './store.js';

export interface CompiledSignIn {
  readonly endpoints: SignInEndpoints;
  readonly resources: readonly Resource[];
  /** A login route's auth stages with the token stage (the first) wrapped; other routes' unchanged. */
  wrap(route: RouteConfig, stages: Stage[]): Stage[];
  /**
   * A login route's credential strip: the session cookies never reach its upstream (the session
   * is the gateway's, the upstream has the identity headers), plus the tokens when
   * `forwardAuthorization: false`. null for other routes (auth/compile.ts's strip applies).
   */
  credentialStrip(route: RouteConfig): CredentialStrip | null;
}

export function compileSignIn(cfg: GatewayConfig, deps: GatewayDeps, providers: ReadonlyMap<string, Provider>, sources: TokenSources): CompiledSignIn | null {
  const sessions = cfg.sessions;
  if (sessions === undefined) return null;
  const { logger } = deps;
  const sealer = new Sealer(sessions.secrets);
  const logins = new Map<string, LoginProvider>();
  const resources: Resource[] = [];
  for (const p of cfg.auth?.providers ?? []) {
    if (p.client === undefined) continue;
    const login = new LoginProvider(p, p.client, providers.get(p.name)!.keys, logger, deps.tracing ?? null);
    logins.set(p.name, login);
    resources.push(login.metadata);
  }
  let store: SessionStore;
  let used: UsedStates;
  if (sessions.store === 'redis') {
    const redis = new RedisSessionStore(connectRedis(cfg.redis!), sealer, cfg.redis!.keyPrefix, logger);
    store = redis;
    used = {
      claim: (state) => redis.claimOnce(state, FLOW_TTL_SEC).catch((err: unknown) => {
        logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'session store unavailable: sign-in callback refused');
        return false;
      }),
    };
  } else {
    store = new CookieSessionStore(sealer);
    used = new MemoryUsedStates();
  }
  const signIn = new SignIn(sessions, sealer, store, used, logins, logger);
  resources.push({ name: 'sessions', notReadyReason: () => store.notReadyReason?.() ?? null, close: () => signIn.close() });
  for (const login of logins.values()) login.metadata.start();

  const names = new Set<string>();
  for (const proto of ['http', 'https']) {
    const base = signIn.jar.names(proto).base;
    for (let i = 0; i < MAX_CHUNKS; i++) names.add(chunkName(base, i));
  }
  const keepTokens = new CredentialStrip(sources, [...names], false);
  const stripAll = new CredentialStrip(sources, [...names], true);

  return {
    endpoints: new SignInEndpoints(signIn),
    credentialStrip(route: RouteConfig): CredentialStrip | null {
      if (typeof route.auth !== 'object' || route.auth.login === undefined) return null;
      return route.forwardAuthorization ? keepTokens : stripAll;
    },
    resources,
    wrap(route: RouteConfig, stages: Stage[]): Stage[] {
      const name = typeof route.auth === 'object' ? route.auth.login : undefined;
      if (name === undefined || stages.length === 0) return stages;
      return [new SessionStage(signIn, logins.get(name)!, stages[0]!, sources), ...stages.slice(1)];
    },
  };
}
