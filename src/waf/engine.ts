/**
 * The rule engine: one RuleSet per paranoia level, compiled at config load, that inspects one
 * value at a time and records matches in a Scan (the per-request anomaly score).
 *
 * Per value: a value known clean is looked up and done; otherwise one pass builds the
 * character-class mask (chars.ts), and the prefilter (prefilter.ts) reads the value for every
 * rule's required literals at once. A rule whose character classes or literals are missing is
 * skipped without its regex; the few that remain share the value's transformed forms through one
 * FormCache. A rule contributes its severity once per request however often it matches, so
 * repeating a harmless pattern cannot add up to a block, and a rule that has matched is not
 * tried again.
 */
import { CLASS_OF_ASCII, C_ENCODING, PLAIN, charMask } from './chars.js';
import { FormCache } from './forms.js';
import { Prefilter } from './prefilter.js';
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

/** The rules of one combination of target bits, as indices in RuleSet.rules (the prefilter's numbering). */
type Plan = Int32Array;

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
   * names with an apostrophe. Remembering that they are clean spares the rules their work; a
   * lookup hashes the value once, cheaper than one pass of the prefilter. Long plain values are
   * remembered too: a bearer token is ~800 plain characters that a client sends on every
   * request for its whole life. Bounded in entries and in characters; cleared when full, so a
   * flood of new values costs only the cache.
   */
  readonly #clean = new Map<string, number>();
  #cleanChars = 0;

  /** Which rules' literals occur in a value (prefilter.ts). */
  readonly #prefilter: Prefilter;
  /** Scratch: the prefilter's candidates for the current value. */
  readonly #candidates: Int32Array;

  constructor(paranoia: number, rules: readonly Rule[] = ALL_RULES) {
    this.paranoia = paranoia;
    this.rules = rules.filter((r) => r.paranoia <= paranoia && r.targets !== 0);
    this.#prefilter = new Prefilter(this.rules);
    this.#candidates = new Int32Array(this.rules.length);
  }

  #planFor(bits: number): Plan {
    let plan = this.#plans.get(bits);
    if (plan === undefined) {
      plan = Int32Array.from(this.rules.keys()).filter((i) => (this.rules[i]!.targets & bits) !== 0);
      this.#plans.set(bits, plan);
    }
    return plan;
  }

  /**
   * Runs the rules that apply to `bits` on `value`. `source` and `name` say where the value came
   * from, for exclusions; a `nameSuffix` (null: none) is joined to `name` with a dot, only when
   * a rule matches (a JSON value's key path is built only if something needs it).
   */
  inspect(scan: Scan, bits: number, value: string, source: Source, name: string, nameSuffix: string | null = null): void {
    const length = value.length;
    if (length === 0) return;
    // A long value is remembered only when plain: one that is not cannot be found, and hashing
    // 1 KB of prose for nothing costs more than a regex.
    if ((length <= MAX_CACHED_CHARS || (length <= MAX_LONG_PLAIN_CHARS && startsPlain(value))) && this.#clean.get(value) === bits) return;
    const forms = this.#forms;
    const prefilter = this.#prefilter;
    forms.reset(value, prefilter.begin(value));
    let mask = prefilter.mask;
    // Decoding can only add characters when the raw value holds an escape of some kind.
    if ((mask & C_ENCODING) !== 0) mask |= charMask(forms.get(Form.Decoded)) | charMask(forms.get(Form.Norm));
    // Only a value checked against every rule, with no match at all (excluded or not), is clean.
    let clean = scan.ids === null && (length <= MAX_CACHED_CHARS || (length <= MAX_LONG_PLAIN_CHARS && (mask & ~PLAIN) === 0));
    if (prefilter.simple) {
      // The few rules whose literals the one pass found, instead of every rule.
      const candidates = this.#candidates;
      const n = prefilter.candidates(candidates);
      for (let k = 0; k < n; k++) {
        const index = candidates[k]!;
        if ((this.rules[index]!.targets & bits) !== 0 && this.#check(scan, index, mask, source, name, nameSuffix)) clean = false;
      }
    } else {
      const plan = this.#planFor(bits);
      for (let i = 0; i < plan.length; i++) if (this.#check(scan, plan[i]!, mask, source, name, nameSuffix)) clean = false;
    }
    if (clean) this.#remember(value, bits);
  }

  /** Runs rule `index` on the current value; true when it matched (scored or excluded). */
  #check(scan: Scan, index: number, mask: number, source: Source, name: string, nameSuffix: string | null): boolean {
    const rule = this.rules[index]!;
    if ((this.#prefilter.needs[index]! & mask) === 0 || scan.has(rule.id)) return false;
    if (!this.#matches(rule, index, this.#forms)) return false;
    const full = nameSuffix === null ? name : name === '' ? nameSuffix : `${name}.${nameSuffix}`;
    if (!scan.exclusions.excludes(rule.id, source, full) && (rule.unlessName === undefined || !rule.unlessName.test(full))) scan.add(rule);
    return true;
  }

  /** Does `rule` (this.rules[index]) match one of its forms of the current value? */
  #matches(rule: Rule, index: number, forms: FormCache): boolean {
    const prefilter = this.#prefilter;
    const perForm = !prefilter.simple;
    // A value with nothing to decode, strip or fold has one string for most forms: try it once.
    let previous: string | null = null;
    for (let f = 0; f < rule.forms.length; f++) {
      const form = rule.forms[f]!;
      const s = forms.get(form);
      if (s === previous) continue;
      previous = s;
      if (perForm && !prefilter.admits(index, form, s)) continue;
      if (rule.pattern.test(s)) return true;
    }
    return false;
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

/** Are the first 64 characters of `value` plain (chars.ts PLAIN)? A cheap guess at "might be remembered". */
function startsPlain(value: string): boolean {
  const end = Math.min(value.length, 64);
  for (let i = 0; i < end; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x80 || (CLASS_OF_ASCII[c]! & ~PLAIN) !== 0) return false;
  }
  return true;
}

/** Values remembered whatever they hold: ids, names, labels repeat; long prose rarely does. */
const MAX_CACHED_CHARS = 512;
/** Longer plain values (chars.ts PLAIN) are remembered too: tokens, long cookies and Referers repeat. */
const MAX_LONG_PLAIN_CHARS = 8192;
/** At most MAX_CLEAN_CHARS × 2 bytes (2 MiB) of cached strings, in at most MAX_CLEAN_VALUES entries. */
const MAX_CLEAN_VALUES = 4096;
const MAX_CLEAN_CHARS = 1024 * 1024;
