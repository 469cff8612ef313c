/**
 * Every rule, in id order. Ids are stable: exclusions, dashboards and alerts refer to them, so a
 * rule that changes meaning gets a new id and an id is never reused (docs/waf.md lists the
 * ranges per family).
 */
import type { Rule } from '../rule.js';
import { INJECTION_RULES } from './injection.js';
import { JAVA_RULES } from './java.js';
import { LFI_RULES } from './lfi.js';
import { PHP_RULES } from './php.js';
import { CORRUPT_CODING, INSPECTION_FAILED, PROTOCOL_RULES, TOO_MANY_ARGS, UNKNOWN_CODING } from './protocol.js';
import { RCE_RULES } from './rce.js';
import { RFI_SSRF_RULES } from './rfi-ssrf.js';
import { SQLI_RULES } from './sqli.js';
import { XSS_RULES } from './xss.js';

export const ALL_RULES: readonly Rule[] = Object.freeze(
  [
    ...PROTOCOL_RULES, TOO_MANY_ARGS, UNKNOWN_CODING, CORRUPT_CODING, INSPECTION_FAILED, ...LFI_RULES, ...RFI_SSRF_RULES, ...RCE_RULES, ...PHP_RULES,
    ...INJECTION_RULES, ...XSS_RULES, ...SQLI_RULES, ...JAVA_RULES,
  ].sort((a, b) => a.id - b.id),
);

/** Rule by id; built once, and a duplicate id is a bug caught at import. */
export const RULES_BY_ID: ReadonlyMap<number, Rule> = (() => {
  const m = new Map<number, Rule>();
  for (const r of ALL_RULES) {
    if (m.has(r.id)) throw new Error(`duplicate WAF rule id ${r.id}`);
    m.set(r.id, r);
  }
  return m;
})();
