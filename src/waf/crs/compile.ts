/**
 * `waf.crs` → the loaded CRS engine, once per Gateway, with the one load report operators need:
 * how many rules run, which were skipped and why (by rule id), and which patterns run under a
 * bound (safety.ts). A directory or file that cannot be read, or a rule file that is not valid
 * SecLang, fails the config load with the key path, the file and the line.
 */
import type { Logger } from 'pino';
import type { WafConfig } from '../../config/types.js';
import { WAF_DEFAULTS } from '../schema.js';
import { CrsSyntaxError } from './lexer.js';
import { CrsLoadError, loadCrs, type LoadedCrs } from './loader.js';

export function loadCrsFor(waf: WafConfig, logger: Logger, configError: (problem: string) => Error): LoadedCrs {
  const crs = waf.crs!;
  let loaded: LoadedCrs;
  try {
    loaded = loadCrs({
      rulesDir: crs.rulesDir,
      setup: crs.setup,
      exclusions: crs.exclusions,
      paranoia: crs.paranoia ?? waf.paranoia ?? WAF_DEFAULTS.paranoia,
      anomalyThreshold: crs.anomalyThreshold ?? waf.anomalyThreshold ?? WAF_DEFAULTS.anomalyThreshold,
    });
  } catch (err) {
    if (err instanceof CrsSyntaxError || err instanceof CrsLoadError) throw configError(`waf.crs.rulesDir: ${err.message}`);
    throw err;
  }
  // warn: `portcullis check` logs at warn, and what is skipped is what an operator must see.
  logger.warn({
    crs: loaded.version, rules: loaded.ruleCount, files: loaded.files.length,
    skipped: summarise(loaded), bounded: loaded.bounded,
  }, `OWASP CRS ${loaded.version} loaded: ${loaded.ruleCount} request rules, ${loaded.skipped.length} skipped, ${loaded.bounded.length} patterns bounded`);
  return loaded;
}

/** Skipped rules grouped by reason: `{ "phase 4 …": [950100, …] }`. */
export function summarise(loaded: LoadedCrs): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const s of loaded.skipped) (out[s.reason] ??= []).push(s.id);
  return out;
}
