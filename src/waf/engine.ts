/**
 * The rule engine: one RuleSet per paranoia level, compiled at config load, that inspects one
 * value at a time and records matches in a Scan (the per-request anomaly score).
 *
 * Per value: one pass builds the character-class mask (chars.ts); a rule whose `needs` misses
 * the mask is skipped; the surviving rules share the value's transformed forms through one
 * FormCache. A rule contributes its severity once per request however often it matches, so
 * repeating a harmless pattern cannot add up to a block, and a rule that has matched is not
 * tried again.
 */
import { C_ENCODING, charMask } from './chars.js';
import { PLAIN, plainGate } from './plain-gate.js';
import { FormCache } from './forms.js';
import { Form, T_ANY_HEADER, T_HEADER, T_NAME, type Rule } from './rule.js';
import { ALL_RULES } from './rules/index.js';
import { NO_EXCLUSIONS, type Exclusions, type Source } from './exclusions.js';

/** What one request has matched so far. */
export class Scan {
  /** Matched rule ids in match order, or null (no allocation) while clean. */
  ids: number[] | null = null;
  score = 0;
  exclusions: Exclusions = NO_EXCLUSIONS;

  reset(exclusions: Exclusions): void {
    this.ids = null;
    this.score = 0;
    this.exclusions = exclusions;
  }

  has(id: number): boolean {
    return this.ids !== null && this.ids.includes(id);
  }

  add(rule: Rule): void {
    if (this.ids === null) this.ids = [rule.id];
    else this.ids.push(rule.id);
    this.score += rule.severity;
  }

  /** A copy that outlives the synchronous part of the request (the body is read later). */
  detach(): Scan {
    const copy = new Scan();
    copy.ids = this.ids === null ? null : this.ids.slice();
    copy.score = this.score;
    copy.exclusions = this.exclusions;
    return copy;
  }
}

export class RuleSet {
  readonly paranoia: number;
  readonly rules: readonly Rule[];
  /** Rules applicable to each combination of target bits, built on first use (a handful of combinations). */
  readonly #byTargets = new Map<number, readonly Rule[]>();
  /** The plain-value gate of each combination (plain-gate.ts); null: no fast path. */
  readonly #gates = new Map<number, RegExp | null>();
  /** Scratch: evaluation of one value is synchronous, so one cache serves every request. */
  readonly #forms = new FormCache();
  /**
   * Header values and argument names that matched no rule, with the target bits they were
   * checked under. Browsers send the same User-Agent, Accept-Language and Referer on every
   * request, and an API's JSON keys and form field names repeat just as much; remembering that
   * they are clean spares the rules most of their work. (Argument values are not remembered:
   * they vary.) Bounded; cleared when full, so a flood of new names costs only the cache.
   */
  readonly #cleanHeaders = new Map<string, number>();

  constructor(paranoia: number, rules: readonly Rule[] = ALL_RULES) {
    this.paranoia = paranoia;
    this.rules = rules.filter((r) => r.paranoia <= paranoia && r.targets !== 0);
  }

  #rulesFor(bits: number): readonly Rule[] {
    let list = this.#byTargets.get(bits);
    if (list === undefined) {
      list = this.rules.filter((r) => (r.targets & bits) !== 0);
      this.#byTargets.set(bits, list);
      this.#gates.set(bits, plainGate(list));
    }
    return list;
  }

  /**
   * Runs the rules that apply to `bits` on `value`. `source` and `name` say where the value came
   * from, for exclusions.
   */
  inspect(scan: Scan, bits: number, value: string, source: Source, name: string): void {
    if (value.length === 0) return;
    const cacheable = (bits & (T_HEADER | T_ANY_HEADER | T_NAME)) !== 0 && value.length <= MAX_CACHED_HEADER;
    if (cacheable && this.#cleanHeaders.get(value) === bits) return;
    const rules = this.#rulesFor(bits);
    const forms = this.#forms;
    forms.reset(value);
    let mask = charMask(value);
    if ((mask & ~PLAIN) === 0) {
      // A plain value: one combined test of the few triggers that could make any rule match.
      const gate = this.#gates.get(bits);
      if (gate !== null && gate !== undefined && !gate.test(value)) return;
    }
    // Decoding can only add characters when the raw value holds an escape of some kind.
    if ((mask & C_ENCODING) !== 0) mask |= charMask(forms.get(Form.Decoded)) | charMask(forms.get(Form.Norm));
    // Only a value checked against every rule, with no match at all (excluded or not), is clean.
    let clean = cacheable && scan.ids === null;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      if ((rule.needs & mask) === 0 || scan.has(rule.id)) continue;
      if (!matches(rule, forms)) continue;
      clean = false;
      if (scan.exclusions.excludes(rule.id, source, name)) continue;
      if (rule.unlessName !== undefined && rule.unlessName.test(name)) continue;
      scan.add(rule);
    }
    if (clean) {
      if (this.#cleanHeaders.size >= MAX_CLEAN_HEADERS) this.#cleanHeaders.clear();
      this.#cleanHeaders.set(value, bits);
    }
  }
}

const MAX_CACHED_HEADER = 512;
const MAX_CLEAN_HEADERS = 4096;

function matches(rule: Rule, forms: FormCache): boolean {
  for (let f = 0; f < rule.forms.length; f++) {
    if (rule.pattern.test(forms.get(rule.forms[f]!))) return true;
  }
  return false;
}
