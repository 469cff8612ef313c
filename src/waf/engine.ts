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
import { PLAIN, plainGate, type PlainGate } from './plain-gate.js';
import { FormCache } from './forms.js';
import { Form, type Rule } from './rule.js';
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

/** The rules of one combination of target bits, with the gates compiled for exactly them. */
interface Plan {
  readonly rules: readonly Rule[];
  /** The plain-value gate (plain-gate.ts); null: no fast path. */
  readonly gate: PlainGate | null;
}

export class RuleSet {
  readonly paranoia: number;
  readonly rules: readonly Rule[];
  /** What runs on each combination of target bits, built on first use (a handful of combinations). */
  readonly #plans = new Map<number, Plan>();
  /** Scratch: evaluation of one value is synchronous, so one cache serves every request. */
  readonly #forms = new FormCache();
  /**
   * Values that matched no rule, with the target bits they were checked under. Browsers send the
   * same User-Agent, Accept-Language and Referer on every request; an API's JSON keys and form
   * field names repeat just as much, and so do its enumerations, country names, short labels and
   * names with an apostrophe. Remembering that they are clean spares the rules their work.
   * Short plain values are not remembered (the plain gate is cheaper than a lookup); long ones
   * are, and are looked up first: a bearer token is ~800 plain characters that the gate scans
   * twice (5.7 µs) on every request of a client that sends the same token for its whole life,
   * where a lookup hashes it once (~1 µs). Bounded in entries and in characters; cleared when
   * full, so a flood of new values costs only the cache.
   */
  readonly #clean = new Map<string, number>();
  #cleanChars = 0;

  constructor(paranoia: number, rules: readonly Rule[] = ALL_RULES) {
    this.paranoia = paranoia;
    this.rules = rules.filter((r) => r.paranoia <= paranoia && r.targets !== 0);
  }

  #planFor(bits: number): Plan {
    let plan = this.#plans.get(bits);
    if (plan === undefined) {
      const rules = this.rules.filter((r) => (r.targets & bits) !== 0);
      plan = { rules, gate: plainGate(rules) };
      this.#plans.set(bits, plan);
    }
    return plan;
  }

  /**
   * Runs the rules that apply to `bits` on `value`. `source` and `name` say where the value came
   * from, for exclusions.
   */
  inspect(scan: Scan, bits: number, value: string, source: Source, name: string): void {
    if (value.length === 0) return;
    const long = value.length > LONG_VALUE_CHARS && value.length <= MAX_LONG_PLAIN_CHARS;
    if (long && this.#clean.get(value) === bits) return;
    const plan = this.#planFor(bits);
    let mask = charMask(value);
    // A plain value: one combined test of the few triggers that could make any rule match.
    if ((mask & ~PLAIN) === 0 && plan.gate !== null && !plan.gate.opens(value)) {
      if (long) this.#remember(value, bits);
      return;
    }
    const cacheable = value.length <= MAX_CACHED_CHARS;
    if (cacheable && !long && this.#clean.get(value) === bits) return;
    const rules = plan.rules;
    const forms = this.#forms;
    forms.reset(value);
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
    if (clean) this.#remember(value, bits);
  }

  /** For tests: what the clean-value cache holds. */
  get cleanCache(): { readonly values: number; readonly chars: number } {
    return { values: this.#clean.size, chars: this.#cleanChars };
  }

  #remember(value: string, bits: number): void {
    if (this.#clean.size >= MAX_CLEAN_VALUES || this.#cleanChars + value.length > MAX_CLEAN_CHARS) {
      this.#clean.clear();
      this.#cleanChars = 0;
    }
    this.#cleanChars += value.length;
    // A copy, not the value itself: a substring of a request body can be a V8 sliced string that
    // keeps the whole body alive for as long as the cache holds it.
    this.#clean.set(('.' + value).slice(1), bits);
  }
}

/** At most MAX_CLEAN_CHARS × 2 bytes (2 MiB) of cached strings, in at most MAX_CLEAN_VALUES entries. */
/** Values that went through the rules: ids, names, labels repeat; long prose rarely does. */
const MAX_CACHED_CHARS = 512;
/** Plain values the gate cleared, remembered when long: tokens, long cookies and Referers repeat. */
const MAX_LONG_PLAIN_CHARS = 8192;
const MAX_CLEAN_VALUES = 4096;
const MAX_CLEAN_CHARS = 1024 * 1024;
/** From this length a lookup is cheaper than the plain gate's two passes over the value. */
const LONG_VALUE_CHARS = 256;

function matches(rule: Rule, forms: FormCache): boolean {
  // A value with nothing to decode, strip or fold has one string for most forms: test it once.
  let previous: string | null = null;
  for (let f = 0; f < rule.forms.length; f++) {
    const form = forms.get(rule.forms[f]!);
    if (form === previous) continue;
    if (rule.pattern.test(form)) return true;
    previous = form;
  }
  return false;
}
