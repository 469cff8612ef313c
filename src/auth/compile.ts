/**
 * `auth` config → what the routes' auth stages share (STYLE §4: compile
 * once, look up per request): providers by issuer, key stores (gateway
 * resources: /readyz waits for them, close() stops them), token sources,
 * the verified-token cache, the brute-force brake and the prebuilt answers.
 *
 * Reload: a new config gets new stores, but a store whose key source is
 * unchanged starts from the previous config's keys and refresh schedule
 * (KeyStore.start(previous)). We copy rather than share the store: the old
 * gateway closes its own resources when it retires, with no reference
 * counting between configs, and the new one never waits for an IdP that
 * served the same keys a moment ago.
 */
import { resolve } from 'node:path';
import type { AuthConfig, ProviderConfig, RouteConfig } from '../config/types.js';
import { AUTH_DEFAULTS } from './schema.js';
import type { GatewayDeps, Resource } from '../contract/types.js';
import type { Stage } from '../contract/types.js';
import { AuthenticateStage, FailureCounter, type AuthShared } from './authenticate.js';
import { AuthoriseStage } from './authorise.js';
import { BruteForceBrake, type SharedRedis } from './brake.js';
import { CertBinding } from './cert-bound.js';
import { ForwardedCertHeader } from './forwarded-cert.js';
import type { Introspector } from './introspection.js';
import { DEV_ISSUER } from './dev-token.js';
import { DiscoveryJwksFetcher, FileJwksFetcher, UriJwksFetcher, type JwksFetcher } from './jwks-fetch.js';
import { secretKeySet } from './key-set.js';
import { KeyStore, StaticKeys } from './key-store.js';
import { Provider } from './provider.js';
import { AuthResponses } from './responses.js';
import { CredentialStrip } from './strip.js';
import { TokenCache } from './token-cache.js';
import { TokenSources } from './token-source.js';
import { NO_AUTH_MODULES, type AuthModules } from './optional.js';

export interface CompiledAuth {
  /** Key stores, for the gateway's readiness and close. */
  readonly resources: readonly Resource[];
  /** The stages of a route that does not say `auth: none`: authenticate, then authorise when it asks for anything. */
  stagesFor(route: RouteConfig): Stage[];
  /** What to remove before the upstream when the route says `forwardAuthorization: false`; else null. */
  credentialStrip(route: RouteConfig): CredentialStrip | null;
  /** By name, for sign-in (src/session), which verifies ID tokens with the same keys. */
  readonly providers: ReadonlyMap<string, Provider>;
  readonly sources: TokenSources;
}

/** Everything a key source is: equal keys mean the previous config's keys are the same keys. */
function sourceKey(p: ProviderConfig, file: string | null): string {
  return JSON.stringify([p.issuer, p.discovery === true, p.jwksUri ?? null, file]);
}

function fetcherFor(p: ProviderConfig, file: string | null): JwksFetcher {
  if (file !== null) return new FileJwksFetcher(file);
  if (p.jwksUri !== undefined) return new UriJwksFetcher(p.jwksUri);
  return new DiscoveryJwksFetcher(p.issuer);
}

/**
 * `redis`: the gateway's Redis connection when one is configured (ratelimit/compile.ts), so the
 * brute-force brake counts once for every instance, and DPoP proof jti values are seen by all
 * of them; `failOpen`: rateLimits.failMode is open, which the DPoP replay store follows too;
 * `modules`: importAuthModules(config), which a provider with introspection or DPoP needs.
 */
export function compileAuth(
  cfg: AuthConfig | undefined, deps: GatewayDeps, previous: readonly Resource[], realm: string, redis: SharedRedis | null = null, failOpen = true,
  modules: AuthModules = NO_AUTH_MODULES,
): CompiledAuth {
  const { logger, metrics } = deps;
  const previousStores = new Map<string, KeyStore>();
  for (const r of previous) if (r instanceof KeyStore) previousStores.set(r.sourceKey, r);

  const stores: KeyStore[] = [];
  const starts: [KeyStore, KeyStore | null][] = [];
  const byName = new Map<string, Provider>();
  const byIssuer = new Map<string, Provider>();
  const introspectors = new Map<Provider, Introspector>();
  for (const p of cfg?.providers ?? []) {
    let provider: Provider;
    if (p.secret !== undefined) {
      provider = new Provider(p, new StaticKeys(secretKeySet(p.secret, p.algorithms)));
    } else {
      // Relative to the working directory, resolved now: a later chdir must not move the keys.
      const file = p.jwksFile === undefined ? null : resolve(p.jwksFile);
      const key = sourceKey(p, file);
      const store = new KeyStore({ provider: p.name, sourceKey: key, fetcher: fetcherFor(p, file), cooldownSec: p.jwksCooldownSec, logger, metrics, tracing: deps.tracing });
      stores.push(store);
      starts.push([store, previousStores.get(key) ?? null]);
      provider = new Provider(p, store);
    }
    if (p.issuer === DEV_ISSUER) {
      logger.warn({ provider: p.name }, `provider "${p.name}" trusts the Portcullis dev key, whose private half is public: local development only`);
    }
    byName.set(p.name, provider);
    byIssuer.set(p.issuer, provider);
    if (p.introspection !== undefined) {
      if (modules.Introspector === null) throw new Error(`provider ${p.name} has introspection: pass importAuthModules()`);
      introspectors.set(provider, new modules.Introspector(provider, p.introspection, p.discovery === true, deps));
    }
  }

  const responses = new AuthResponses(realm);
  const failures = new FailureCounter(metrics);
  const sources = new TokenSources(cfg?.tokenSources ?? [{ header: 'authorization' }]);
  const cacheCfg = cfg?.tokenCache ?? AUTH_DEFAULTS.tokenCache;
  const brakeCfg = cfg?.bruteForce ?? AUTH_DEFAULTS.bruteForce;
  const shared: AuthShared = {
    providersByIssuer: byIssuer,
    sources,
    cache: cacheCfg.maxEntries > 0 ? new TokenCache(cacheCfg.maxEntries, cacheCfg.maxTtlSec) : null,
    // Opt-in (PRODUCT §8): maxFailures 0, the default, builds no brake at all.
    brake: brakeCfg.maxFailures > 0
      ? new BruteForceBrake(brakeCfg, redis, (err) => logger.warn({ err }, 'brute-force brake store failed; not counting'))
      : null,
    introspectors,
    responses,
    maxTokenBytes: cfg?.maxTokenBytes ?? AUTH_DEFAULTS.maxTokenBytes,
    failures,
    logger,
    certBinding: compileCertBinding(cfg, realm, deps),
  };
  // No DPoP anywhere in the config (usesDpop): its module is not loaded and no route gets a check.
  const dpop = modules.CompiledDpop === null ? null
    : new modules.CompiledDpop(cfg?.dpop, cfg?.providers ?? [], { realm, redis, failOpen, logger, count: (p, r) => failures.count(p, r) });
  // One stage per distinct provider list would do; one per route keeps it simple and is cheap.
  const open = new AuthenticateStage(shared, null, dpop?.forRoute(undefined, null) ?? null);
  const strip = new CredentialStrip(sources);
  for (const [store, prev] of starts) store.start(prev);

  return {
    resources: [...stores, ...introspectors.values()],
    providers: byName,
    sources,
    stagesFor(route: RouteConfig): Stage[] {
      const policy = typeof route.auth === 'object' ? route.auth : {};
      const names = policy.providers;
      const stages: Stage[] = [names === undefined && policy.dpop === undefined
        ? open
        : new AuthenticateStage(shared, names === undefined ? null : new Set(names.map((n) => byName.get(n)!)), dpop?.forRoute(policy.dpop, names ?? null) ?? null)];
      if (AuthoriseStage.needed(policy)) stages.push(new AuthoriseStage(policy, responses, failures));
      return stages;
    },
    credentialStrip(route: RouteConfig): CredentialStrip | null {
      return route.forwardAuthorization ? null : strip;
    },
  };
}

/** RFC 8705 (cert-bound.ts): checked for every token, since any token may carry cnf. */
function compileCertBinding(cfg: AuthConfig | undefined, realm: string, deps: GatewayDeps): CertBinding {
  const c = cfg?.certificateBound;
  const header = c?.forwardedCertHeader;
  const format = c?.forwardedCertFormat ?? (header?.toLowerCase() === 'x-forwarded-client-cert' ? 'xfcc' : 'escaped-pem');
  return new CertBinding({ required: c?.required ?? false, forwarded: header === undefined ? null : new ForwardedCertHeader(header, format) }, realm, deps.metrics);
}
