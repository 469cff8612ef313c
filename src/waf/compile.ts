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
import type { loadCrsFor } from './crs/compile.js';
import type { LoadedCrs } from './crs/loader.js';
import type { CrsStage } from './crs/stage.js';
import { RuleSet } from './engine.js';
import { Exclusions } from './exclusions.js';
import { WAF_DEFAULTS } from './schema.js';
import { WafCounters, WafStage, type WafSettings } from './stage.js';

/** The CRS engine's code (waf/crs/): imported only for a config with `waf.crs` (compile/gateway.ts). */
export interface CrsEngine {
  readonly loadCrsFor: typeof loadCrsFor;
  readonly CrsStage: typeof CrsStage;
}

export async function importCrsEngine(): Promise<CrsEngine> {
  const [{ loadCrsFor }, { CrsStage }] = await Promise.all([import('./crs/compile.js'), import('./crs/stage.js')]);
  return { loadCrsFor, CrsStage };
}

export class WafPolicy {
  readonly #cfg: GatewayConfig['waf'];
  readonly #rules: RuleSet;
  readonly #counters: WafCounters;
  readonly #logger: GatewayDeps['logger'];
  /** waf.crs: the OWASP CRS engine replaces the built-in rules for every route. */
  readonly #crs: LoadedCrs | null;
  readonly #crsStage: typeof CrsStage | null;

  /** `engine`: importCrsEngine()'s answer, required when `waf.crs` is set. */
  constructor(cfg: GatewayConfig, deps: GatewayDeps, engine: CrsEngine | null = null) {
    this.#cfg = cfg.waf;
    this.#rules = new RuleSet(cfg.waf?.paranoia ?? WAF_DEFAULTS.paranoia);
    this.#counters = new WafCounters(deps.metrics.wafMatchesTotal);
    this.#logger = deps.logger;
    if (cfg.waf?.crs !== undefined && engine === null) throw new Error('waf.crs needs the CRS engine: pass importCrsEngine()');
    this.#crs = cfg.waf?.crs === undefined || engine === null ? null : engine.loadCrsFor(cfg.waf, deps.logger, (problem) => new ConfigError([problem]));
    this.#crsStage = engine?.CrsStage ?? null;
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
    if (this.#crs !== null && this.#crsStage !== null) return new this.#crsStage(this.#crs, settings, this.#counters);
    const mine = (this.#cfg?.exclusions ?? []).filter((e) => e.route === undefined || e.route === route.name);
    return new WafStage(this.#rules, settings, new Exclusions(mine), this.#counters, this.#logger);
  }
}
