/**
 * `waf` + route `waf` → one WAF stage per inspected route (STYLE §2: all parsing here, once).
 * A route's mode is its own `waf`, else `waf.mode`, else the default `block` at paranoia 1:
 * security by default, as with routes (deny unless allowed) — a deployment that wants no WAF
 * says `waf: { mode: off }` (or `detect` to watch first). The rule set of the configured paranoia is built once per
 * Gateway and shared by its routes; exclusions are filtered per route.
 */
import { ConfigError } from '../config/errors.js';
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import type { GatewayDeps } from '../contract/types.js';
import type { Stage } from '../contract/types.js';
import { loadCrsFor } from './crs/compile.js';
import type { LoadedCrs } from './crs/loader.js';
import { CrsStage } from './crs/stage.js';
import { RuleSet } from './engine.js';
import { Exclusions } from './exclusions.js';
import { WAF_DEFAULTS } from './schema.js';
import { WafCounters, WafStage, type WafSettings } from './stage.js';

export class WafPolicy {
  readonly #cfg: GatewayConfig['waf'];
  readonly #rules: RuleSet;
  readonly #counters: WafCounters;
  readonly #logger: GatewayDeps['logger'];
  /** waf.crs: the OWASP CRS engine replaces the built-in rules for every route. */
  readonly #crs: LoadedCrs | null;

  constructor(cfg: GatewayConfig, deps: GatewayDeps) {
    this.#cfg = cfg.waf;
    this.#rules = new RuleSet(cfg.waf?.paranoia ?? WAF_DEFAULTS.paranoia);
    this.#counters = new WafCounters(deps.metrics.wafMatchesTotal);
    this.#logger = deps.logger;
    this.#crs = cfg.waf?.crs === undefined ? null : loadCrsFor(cfg.waf, deps.logger, (problem) => new ConfigError([problem]));
  }

  /** The route's WAF stage, or null when its mode is off. */
  stageFor(route: RouteConfig): Stage | null {
    const mode = route.waf ?? this.#cfg?.mode ?? WAF_DEFAULTS.mode;
    if (mode === 'off') return null;
    const settings: WafSettings = Object.freeze({
      mode,
      anomalyThreshold: this.#cfg?.anomalyThreshold ?? WAF_DEFAULTS.anomalyThreshold,
      inspectBodyBytes: this.#cfg?.inspectBodyBytes ?? WAF_DEFAULTS.inspectBodyBytes,
    });
    if (this.#crs !== null) return new CrsStage(this.#crs, settings, this.#counters);
    const mine = (this.#cfg?.exclusions ?? []).filter((e) => e.route === undefined || e.route === route.name);
    return new WafStage(this.#rules, settings, new Exclusions(mine), this.#counters, this.#logger);
  }
}
