/**
 * A route compiled from config: its matcher, its own ordered stage list
 * (like Envoy's per-route filter config) and what forwarding needs. Nothing
 * reads the raw route config after this.
 */
import type { RouteConfig } from '../config/types.js';
import type { RouteRef, Stage } from '../contract/types.js';
import type { UpstreamGroup } from '../upstream/group.js';
import { compileClaimPath, type ClaimPath } from '../contract/claims.js';
import type { CredentialStrip } from '../auth/strip.js';
import { RouteMatcher } from './match.js';
import { CanonicalHeaderNames } from './sanitise.js';

export interface IdentityHeader {
  /** Header name as configured (sent in this spelling). */
  readonly name: string;
  readonly claim: ClaimPath;
}

export class CompiledRoute implements RouteRef {
  readonly name: string;
  readonly matcher: RouteMatcher;
  readonly stages: readonly Stage[];
  /**
   * Where the edge forwards. A route configured without `upstream` has a group with no targets
   * and `forwards: false`: the edge answers it 404 before its stages (edge/handler.ts) and never
   * picks from it; websocket routes must have an upstream (config/semantic.ts).
   */
  readonly upstream: UpstreamGroup;
  /** false for a forward-auth-only route (no `upstream` in its config). */
  readonly forwards: boolean;
  readonly stripPrefix: string | null;
  readonly websocket: boolean;
  readonly forwardAuthorization: boolean;
  readonly identityHeaders: readonly IdentityHeader[];
  /** Lowercased names from requestHeaders.remove. */
  readonly removeHeaders: ReadonlySet<string> | null;
  /** [name, value] pairs from requestHeaders.set. */
  readonly setHeaders: readonly (readonly [string, string])[];
  /**
   * The requestHeaders.set names: a client's copies, in any case or alias spelling, are removed
   * so that the set value replaces them rather than following them (`attacker, gateway`); null when none.
   */
  readonly replacedHeaders: CanonicalHeaderNames | null;
  /** `forwardAuthorization: false`: the credentials removed before the upstream; null forwards them. */
  readonly credentialStrip: CredentialStrip | null;

  constructor(cfg: RouteConfig, stages: readonly Stage[], upstream: UpstreamGroup, credentialStrip: CredentialStrip | null = null) {
    this.name = cfg.name;
    this.matcher = new RouteMatcher(cfg.match);
    this.stages = Object.freeze([...stages]);
    this.upstream = upstream;
    this.forwards = upstream.targets.length > 0;
    this.stripPrefix = cfg.stripPrefix ?? null;
    this.websocket = cfg.websocket;
    this.forwardAuthorization = cfg.forwardAuthorization;
    this.identityHeaders = Object.freeze(
      Object.entries(cfg.identityHeaders).map(([name, claim]) => Object.freeze({ name, claim: compileClaimPath(claim) })),
    );
    const remove = cfg.requestHeaders.remove.map((h) => h.toLowerCase());
    this.removeHeaders = remove.length ? new Set(remove) : null;
    this.setHeaders = Object.freeze(Object.entries(cfg.requestHeaders.set).map(([k, v]) => Object.freeze([k, v] as const)));
    this.replacedHeaders = this.setHeaders.length ? new CanonicalHeaderNames(this.setHeaders.map(([k]) => k)) : null;
    this.credentialStrip = credentialStrip;
  }

  /** Describe the route for `portcullis check`. */
  describe(): string {
    const targets = this.forwards ? 'upstream ' + this.upstream.targets.map((t) => t.url).join(', ') : 'no upstream (forward-auth only)';
    const stageNames = this.stages.map((s) => s.name).join(' → ') || '(none)';
    return `${this.name}: stages ${stageNames}; ${targets}${this.websocket ? '; websocket' : ''}`;
  }
}
