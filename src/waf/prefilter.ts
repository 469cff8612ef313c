/**
 * Which rules' regexes are worth running on a value: the rules whose required literals
 * (required-literals.ts) all occur in it. Built once per RuleSet; used for one value at a time
 * (evaluation is synchronous, so its scratch state serves every request).
 *
 * Two ways to look, chosen per value:
 * - a simple value (skeleton.ts) is read once, as its skeleton, by one automaton holding every
 *   rule's literals as skeletons; that one pass stands for all of the value's forms, and no
 *   form is computed for a rule that does not pass;
 * - any other value (escapes, comments, `$`, non-ASCII …) has each distinct form string that a
 *   rule asks about read by the automaton of exact literals, once per string.
 */
import { C_ALPHA, C_BSLASH, C_COLON, C_COMMA, C_DASH, C_DIGIT, C_DOLLAR, C_DOT, C_NL, C_QUOTE, C_SLASH, C_SPACE, C_STAR, C_UNDERSCORE, CLASS_OF_ASCII, C_NONASCII, charMask } from './chars.js';
import { VALUE_SIMPLE } from './forms.js';
import { LiteralGroups } from './literal-set.js';
import { requiredLiterals } from './required-literals.js';
import { FORM_COUNT, type Form, type Rule } from './rule.js';
import { isSimple, skeletonClauses } from './skeleton.js';

/** A rule's literal sets as groups of an automaton: groups start … end-1 must all be found. */
class GroupRanges {
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly automaton: LiteralGroups;

  constructor(perRule: readonly (readonly (readonly string[])[])[]) {
    const groups: (readonly string[])[] = [];
    this.start = new Int32Array(perRule.length);
    this.end = new Int32Array(perRule.length);
    perRule.forEach((sets, i) => {
      this.start[i] = groups.length;
      groups.push(...sets);
      this.end[i] = groups.length;
    });
    this.automaton = new LiteralGroups(groups);
  }

  /** Are all groups of rule `index` set in `found`? */
  allFound(index: number, found: Uint32Array): boolean {
    for (let g = this.start[index]!, to = this.end[index]!; g < to; g++) {
      if ((found[g >>> 5]! & (1 << (g & 31))) === 0) return false;
    }
    return true;
  }
}

/** How common a character class is in ordinary values (higher: more common), to pick the rarest. */
function commonness(bit: number): number {
  if (bit === C_ALPHA) return 100;
  if (bit === C_SPACE) return 50;
  if (bit === C_DIGIT) return 20;
  if (bit === C_DOT || bit === C_DASH) return 10;
  if (bit === C_COMMA || bit === C_SLASH || bit === C_COLON || bit === C_UNDERSCORE || bit === C_QUOTE) return 5;
  return 1;
}

/**
 * Classes a form can create from others: a space from whitespace runs, `$IFS` (shell) and
 * comments (SQL), `/` from `\` (path). Decoding is covered by the engine adding the decoded
 * forms' classes to the value's mask.
 */
function widen(bit: number): number {
  if (bit === C_SPACE) return C_SPACE | C_NL | C_DOLLAR | C_STAR;
  if (bit === C_SLASH) return C_SLASH | C_BSLASH;
  return bit;
}

/**
 * The chars.ts classes of which a value must hold one for the rule to match, derived from its
 * required literals: every match holds a literal of each set, so it holds the rarest character
 * class of one of that set's literals. The most selective set gives the mask. A rule that
 * requires no literal keeps the mask it declares, or runs on every value.
 */
export function needsOf(rule: Rule, clauses: readonly (readonly string[])[]): number {
  let best = rule.needs ?? -1;
  let bestCost = Infinity;
  for (const set of clauses) {
    let mask = 0;
    for (const literal of set) {
      let rarest = 0;
      for (let i = 0; i < literal.length; i++) {
        const bit = charMask(literal[i]!);
        if (rarest === 0 || commonness(bit) < commonness(rarest)) rarest = bit;
      }
      mask |= widen(rarest);
    }
    let cost = 0;
    for (let b = 0; b < 31; b++) if ((mask & (1 << b)) !== 0) cost += commonness(1 << b);
    if (cost < bestCost) [best, bestCost] = [mask, cost];
  }
  return best;
}

export class Prefilter {
  /** Per rule: the character classes it needs (needsOf). */
  readonly needs: Int32Array;
  readonly #exact: GroupRanges;
  readonly #skeleton: GroupRanges;
  /** Whether the current value is simple; when it is, #skeletonFound holds its one scan. */
  #simple = false;
  readonly #skeletonFound: Uint32Array;
  /** Per skeleton group: the rule whose first group it is, or -1. */
  readonly #anchorOf: Int32Array;
  /** The rules without a skeleton set, ascending: on a simple value, always candidates. */
  readonly #unanchored: Int32Array;
  /** Per form: the groups found in that form's string, and the string they were found in. */
  readonly #found: Uint32Array[];
  readonly #scanned: (string | null)[] = new Array<string | null>(FORM_COUNT).fill(null);

  constructor(rules: readonly Rule[]) {
    const clauses = rules.map((r) => requiredLiterals(r.pattern));
    this.needs = Int32Array.from(rules, (r, i) => needsOf(r, clauses[i]!));
    this.#exact = new GroupRanges(clauses);
    this.#skeleton = new GroupRanges(clauses.map(skeletonClauses));
    this.#skeletonFound = new Uint32Array(this.#skeleton.automaton.words);
    const { start, end } = this.#skeleton;
    this.#anchorOf = new Int32Array(this.#skeletonFound.length * 32).fill(-1);
    rules.forEach((_, i) => {
      if (start[i]! < end[i]!) this.#anchorOf[start[i]!] = i;
    });
    this.#unanchored = Int32Array.from(rules.keys()).filter((i) => start[i] === end[i]);
    this.#found = Array.from({ length: FORM_COUNT }, () => new Uint32Array(this.#exact.automaton.words));
  }

  /** The current value's chars.ts class mask (begin() computes it in its pass). */
  mask = 0;

  /**
   * Starts a value: one pass for its character-class mask (`this.mask`) and every rule's
   * skeleton literals. Returns what it established about the value for FormCache.reset
   * (forms.ts VALUE_SIMPLE and SAW_* bits; 0 when the value is not simple).
   */
  begin(value: string): number {
    this.#scanned.fill(null);
    const automaton = this.#skeleton.automaton;
    this.#skeletonFound.fill(0);
    // Read as a skeleton before it is known to be simple: one pass instead of two for the
    // common value; for the others the literals found are ignored.
    this.mask = automaton.scanSkeleton(value, this.#skeletonFound, CLASS_OF_ASCII, C_NONASCII);
    this.#simple = isSimple(value, this.mask);
    return this.#simple ? VALUE_SIMPLE | automaton.saw : 0;
  }

  /**
   * For a simple value: the rules that may match it (all their sets found, or no set at all),
   * ascending, written to `out`; returns how many. Reads only the sets that were found, so a
   * clean value costs a few word tests instead of a test per rule.
   */
  candidates(out: Int32Array): number {
    const found = this.#skeletonFound;
    const unanchored = this.#unanchored;
    let n = 0;
    let u = 0;
    for (let w = 0; w < found.length; w++) {
      let word = found[w]!;
      while (word !== 0) {
        const low = word & -word;
        word ^= low;
        const rule = this.#anchorOf[(w << 5) + 31 - Math.clz32(low)]!;
        if (rule < 0 || !this.#skeleton.allFound(rule, found)) continue;
        while (u < unanchored.length && unanchored[u]! < rule) out[n++] = unanchored[u++]!;
        out[n++] = rule;
      }
    }
    while (u < unanchored.length) out[n++] = unanchored[u++]!;
    return n;
  }

  /** Is the current value simple (then `admits` need not be asked)? */
  get simple(): boolean {
    return this.#simple;
  }

  /** Can rule `index` match `s`, the current value's `form`? Reads each distinct string once. */
  admits(index: number, form: Form, s: string): boolean {
    if (this.#exact.start[index] === this.#exact.end[index]) return true;
    let found: Uint32Array | null = null;
    for (let f = 0; f < FORM_COUNT; f++) {
      if (this.#scanned[f] === s) {
        found = this.#found[f]!;
        break;
      }
    }
    if (found === null) {
      found = this.#found[form]!;
      found.fill(0);
      this.#exact.automaton.scan(s, found);
      this.#scanned[form] = s;
    }
    return this.#exact.allFound(index, found);
  }
}
