/**
 * `@detectSQLi` and `@detectXSS` without libinjection (no libinjection package exists for Node,
 * and a port is a project of its own): CRS asks them one question per value — "is this SQL
 * injection / XSS?" — and this answers it with the built-in WAF's own rule families
 * (../rules/sqli.ts, ../rules/xss.ts), which are ours. A value is detected when one of the
 * family's paranoia-1 CRITICAL rules matches it: the rules that block alone in the built-in
 * profile, whose false-positive rate is measured (docs/waf.md), so 942100 and 941100 add no
 * warning-level noise. The built-in rules do their own decoding on top of CRS's
 * transformations; they run through the built-in engine (prefilter, clean-value cache).
 */
import { RuleSet, Scan } from '../engine.js';
import { NO_EXCLUSIONS, S_BODY } from '../exclusions.js';
import { CRITICAL, T_VALUE, type Family, type Rule } from '../rule.js';
import { SQLI_RULES } from '../rules/sqli.js';
import { XSS_RULES } from '../rules/xss.js';

export class FamilyDetector {
  readonly #rules: RuleSet;
  readonly #scan = new Scan();

  constructor(rules: readonly Rule[], family: Family) {
    this.#rules = new RuleSet(1, rules.filter((r) => r.family === family && r.paranoia === 1 && r.severity === CRITICAL && (r.targets & T_VALUE) !== 0));
  }

  /** The id of the built-in rule that matched `value`, or 0. */
  detect(value: string): number {
    const scan = this.#scan;
    scan.reset(NO_EXCLUSIONS);
    this.#rules.inspect(scan, T_VALUE, value, S_BODY, '');
    return scan.ids === null ? 0 : scan.ids[0]!;
  }
}

let sqli: FamilyDetector | null = null;
let xss: FamilyDetector | null = null;

/** Shared by every loaded rule set: the detectors hold no per-request state between calls. */
export const sqliDetector = (): FamilyDetector => (sqli ??= new FamilyDetector(SQLI_RULES, 'sqli'));
export const xssDetector = (): FamilyDetector => (xss ??= new FamilyDetector(XSS_RULES, 'xss'));
