/**
 * The literals a rule's pattern cannot match without. For a regex, a few OR-sets of lower-case
 * ASCII strings such that every match of the pattern contains a literal of each set: for
 * `['"`] ?(?:or|and) …`, one of `' " \`` and one of `or and`. The engine searches every rule's
 * literals in one automaton pass over a value (literal-set.ts LiteralGroups) and runs only the
 * regexes whose sets all occur: on a paragraph of prose, a handful of ~35 patterns instead of
 * all of them, which was most of the WAF's cost on a JSON body (issue 5).
 *
 * The literals are derived from the pattern, not listed by hand, so they cannot drift from it.
 * This is RE2's prefilter idea (re2/prefilter.cc), cut down: a walk of the pattern's syntax tree
 * computes, per node,
 * - `exact`: every string the node can match, while that set stays small (null: unknown), and
 * - `clauses`: OR-sets every match of the node holds a literal of (an AND of ORs).
 * Each step may only lose precision, never claim too much: a class too large to enumerate, an
 * unbounded repeat, a backreference or a non-ASCII character becomes "anything", a lookaround
 * "the empty string". So when one of a rule's sets has no literal in a string, the rule's
 * pattern cannot match it. test/waf/required-literals.test.ts checks this on every rule's
 * attack examples and the corpora, and on random strings built from each pattern's fragments.
 */

interface Info {
  /** Every string the node matches, lower-cased; null when unknown or too many. */
  readonly exact: readonly string[] | null;
  /** When exact is null: OR-sets of which every match contains one literal each ([]: none). */
  readonly clauses: Clauses;
}

/** An AND of OR-sets: every match contains a literal of each set. */
type Clauses = readonly (readonly string[])[];

const ANY: Info = { exact: null, clauses: [] };
const EMPTY: Info = { exact: [''], clauses: [] };
/** Largest exact set kept; past it a node keeps only what it requires. */
const MAX_EXACT = 32;
/** Largest character class enumerated as single-character strings. */
const MAX_CLASS = 8;
/** Largest repeat count enumerated. */
const MAX_REPEAT = 8;
/** OR-sets kept per node: the most selective ones. */
const MAX_CLAUSES = 3;

/**
 * What every match of `re` contains: OR-sets of lower-case ASCII literals, each of which must
 * have a literal in the string for `re` to match it. [] when the pattern requires no literal
 * (then the rule always runs).
 */
export function requiredLiterals(re: RegExp): Clauses {
  // u/v change the syntax (\p{…}, \u{…}, class sets); no rule uses them: no prefilter then.
  if (/[uv]/.test(re.flags)) return [];
  const parser = new Parser(re.source);
  const info = parser.alternation();
  if (parser.pos !== re.source.length) return []; // a stray ')': not understood, so no claim
  return requirement(info).map(minimise);
}

/** What a node requires; [] when it can match a string holding no literal at all. */
function requirement(info: Info): Clauses {
  if (info.exact !== null) return info.exact.length === 0 || info.exact.includes('') ? [] : [info.exact];
  return info.clauses;
}

/** Drops duplicates and every literal that contains a shorter one of the set (it adds nothing). */
export function minimise(set: readonly string[]): string[] {
  const unique = [...new Set(set)].sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  const kept: string[] = [];
  for (const s of unique) if (!kept.some((k) => s.includes(k))) kept.push(s);
  return kept;
}

function literal(ch: string): Info {
  // The automaton reads ASCII only; anything else matches "anything" here, which is safe.
  return ch.charCodeAt(0) < 0x80 ? { exact: [ch.toLowerCase()], clauses: [] } : ANY;
}

function concat(a: Info, b: Info): Info {
  if (a.exact !== null && b.exact !== null && a.exact.length * b.exact.length <= MAX_EXACT) {
    const out = new Set<string>();
    for (const x of a.exact) for (const y of b.exact) out.add(x + y);
    return { exact: [...out], clauses: [] };
  }
  // A match of the sequence holds a match of each part: both parts' requirements hold.
  return { exact: null, clauses: strongest([...requirement(a), ...requirement(b)]) };
}

function alternate(branches: readonly Info[]): Info {
  if (branches.every((b) => b.exact !== null)) {
    const all = new Set(branches.flatMap((b) => b.exact!));
    if (all.size <= MAX_EXACT) return { exact: [...all], clauses: [] };
  }
  // Whichever branch matches meets all its clauses, so its k-th clause or another branch's k-th
  // holds: clause k of the alternation is the union of the branches' k-th (best first).
  const each = branches.map(requirement);
  const k = Math.min(...each.map((c) => c.length));
  const clauses: string[][] = [];
  for (let j = 0; j < k; j++) clauses.push(each.flatMap((c) => c[j]!));
  return { exact: null, clauses };
}

function repeat(atom: Info, min: number, max: number): Info {
  if (max === 0) return EMPTY;
  if (atom.exact !== null && max <= MAX_REPEAT) {
    const all = new Set<string>();
    let power: readonly string[] = [''];
    let fits = true;
    for (let k = 1; k <= max && fits; k++) {
      if (k - 1 >= min) for (const s of power) all.add(s);
      const nextPower = new Set<string>();
      for (const s of power) for (const t of atom.exact) nextPower.add(s + t);
      power = [...nextPower];
      fits = power.length <= MAX_EXACT && all.size + power.length <= MAX_EXACT;
    }
    if (fits) {
      for (const s of power) all.add(s);
      if (min === 0) all.add('');
      return { exact: [...all], clauses: [] };
    }
  }
  // At least one copy of the atom when min ≥ 1; nothing required when it may be absent.
  return { exact: null, clauses: min === 0 ? [] : requirement(atom) };
}

/** The MAX_CLAUSES most selective distinct clauses, most selective first. */
function strongest(clauses: Clauses): Clauses {
  const byKey = new Map<string, readonly string[]>();
  for (const c of clauses) byKey.set([...new Set(c)].sort().join('\u0000'), c);
  return [...byKey.values()].map((c) => ({ c, cost: cost(c) })).sort((x, y) => x.cost - y.cost).slice(0, MAX_CLAUSES).map((x) => x.c);
}

/**
 * How often a set's literals would turn up in ordinary text (English letter frequencies; spaces
 * common, punctuation rare), to keep the most selective requirements.
 */
function cost(set: readonly string[]): number {
  let sum = 0;
  for (const s of set) {
    let p = 1;
    for (let i = 0; i < s.length; i++) p *= charFrequency(s.charCodeAt(i));
    sum += p;
  }
  return sum;
}

const LETTER_FREQUENCY = [
  0.065, 0.012, 0.022, 0.034, 0.104, 0.02, 0.016, 0.05, 0.057, 0.001, 0.006, 0.033, 0.02, // a–m
  0.056, 0.06, 0.015, 0.001, 0.049, 0.052, 0.073, 0.023, 0.008, 0.019, 0.001, 0.016, 0.001, // n–z
];

function charFrequency(c: number): number {
  if (c >= 0x61 && c <= 0x7a) return LETTER_FREQUENCY[c - 0x61]!;
  if (c === 0x20) return 0.16;
  if (c >= 0x30 && c <= 0x39) return 0.01;
  if (c === 0x2e || c === 0x2c || c === 0x2d || c === 0x27 || c === 0x0a) return 0.01;
  return 0.003;
}

/** A recursive-descent reader of JavaScript regex syntax (without the u/v flags). */
class Parser {
  pos = 0;
  readonly #s: string;

  constructor(source: string) {
    this.#s = source;
  }

  alternation(): Info {
    const branches = [this.#sequence()];
    while (this.#s[this.pos] === '|') {
      this.pos++;
      branches.push(this.#sequence());
    }
    return branches.length === 1 ? branches[0]! : alternate(branches);
  }

  #sequence(): Info {
    // Runs of adjacent exact parts are joined first (`b`, `c` → `bc`), so that a part the
    // analysis cannot enumerate does not cut the literals around it into single characters.
    const clauses: (readonly string[])[] = [];
    let run: Info | null = null;
    let partial = false; // some part was not exact: the sequence as a whole is not
    while (this.pos < this.#s.length && this.#s[this.pos] !== '|' && this.#s[this.pos] !== ')') {
      const part = this.#quantified(this.#atom());
      if (part.exact !== null && run !== null && run.exact!.length * part.exact.length <= MAX_EXACT) {
        run = concat(run, part);
        continue;
      }
      if (run !== null && part.exact !== null) partial = true;
      if (run !== null) clauses.push(...requirement(run));
      if (part.exact !== null) run = part;
      else {
        run = null;
        partial = true;
        clauses.push(...part.clauses);
      }
    }
    if (!partial) return run ?? EMPTY;
    if (run !== null) clauses.push(...requirement(run));
    return { exact: null, clauses: strongest(clauses) };
  }

  #quantified(atom: Info): Info {
    const c = this.#s[this.pos];
    let min: number;
    let max: number;
    if (c === '?') [min, max] = [0, 1];
    else if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.#s.slice(this.pos, this.pos + 24));
      if (m === null) return atom; // a literal "{", read by #atom next
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      this.pos += m[0].length - 1;
    } else return atom;
    this.pos++;
    if (this.#s[this.pos] === '?') this.pos++; // lazy: same strings
    return repeat(atom, min, max);
  }

  #atom(): Info {
    const c = this.#s[this.pos]!;
    switch (c) {
      case '(':
        return this.#group();
      case '[':
        return this.#class();
      case '.':
        this.pos++;
        return ANY;
      case '^':
      case '$':
        this.pos++;
        return EMPTY;
      case '\\':
        return this.#escape();
      default:
        this.pos++;
        return literal(c);
    }
  }

  #group(): Info {
    this.pos++; // (
    let lookaround = false;
    if (this.#s[this.pos] === '?') {
      const rest = this.#s.slice(this.pos, this.pos + 3);
      if (rest.startsWith('?:')) this.pos += 2;
      else if (rest.startsWith('?=') || rest.startsWith('?!')) [this.pos, lookaround] = [this.pos + 2, true];
      else if (rest === '?<=' || rest === '?<!') [this.pos, lookaround] = [this.pos + 3, true];
      else if (rest.startsWith('?<')) this.pos = this.#s.indexOf('>', this.pos) + 1; // named group
    }
    const inner = this.alternation();
    if (this.#s[this.pos] === ')') this.pos++;
    // A lookaround matches no characters of the match itself.
    return lookaround ? EMPTY : inner;
  }

  #class(): Info {
    this.pos++; // [
    const negated = this.#s[this.pos] === '^';
    if (negated) this.pos++;
    const chars = new Set<string>();
    let enumerable = !negated;
    while (this.pos < this.#s.length && this.#s[this.pos] !== ']') {
      const lo = this.#classAtom();
      if (this.#s[this.pos] === '-' && this.#s[this.pos + 1] !== ']' && this.pos + 1 < this.#s.length) {
        this.pos++;
        const hi = this.#classAtom();
        if (lo === null || hi === null || hi - lo > MAX_CLASS) enumerable = false;
        else for (let k = lo; k <= hi; k++) chars.add(String.fromCharCode(k).toLowerCase());
      } else if (lo === null) enumerable = false;
      else chars.add(String.fromCharCode(lo).toLowerCase());
    }
    this.pos++; // ]
    if (!enumerable || chars.size === 0 || chars.size > MAX_CLASS) return ANY;
    for (const ch of chars) if (ch.charCodeAt(0) >= 0x80) return ANY;
    return { exact: [...chars], clauses: [] };
  }

  /** One character of a class, as its code; null for a class escape (\d, \w, \s …). */
  #classAtom(): number | null {
    const c = this.#s[this.pos]!;
    if (c !== '\\') {
      this.pos++;
      return c.charCodeAt(0);
    }
    const e = this.#s[this.pos + 1];
    if (e === 'b') {
      this.pos += 2;
      return 0x08; // backspace inside a class
    }
    const info = this.#escape();
    return info.exact !== null && info.exact.length === 1 && info.exact[0]!.length === 1 ? this.#lastEscapeCode : null;
  }

  /** The code of the last single-character escape read (before lower-casing). */
  #lastEscapeCode = 0;

  #escape(): Info {
    this.pos++; // \
    const e = this.#s[this.pos]!;
    this.pos++;
    switch (e) {
      case 'b':
      case 'B':
        return EMPTY;
      case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
        return ANY;
      case 'n': return this.#char(0x0a);
      case 'r': return this.#char(0x0d);
      case 't': return this.#char(0x09);
      case 'v': return this.#char(0x0b);
      case 'f': return this.#char(0x0c);
      case 'x':
      case 'u': {
        const digits = e === 'x' ? 2 : 4;
        const hex = this.#s.slice(this.pos, this.pos + digits);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== digits) return this.#char(e.charCodeAt(0));
        this.pos += digits;
        return this.#char(Number.parseInt(hex, 16));
      }
      case 'c': {
        const letter = this.#s[this.pos];
        // Without a letter, `\c` is the two characters backslash and c (Annex B); not one
        // character, so not something a class could hold either.
        if (letter === undefined || !/[a-zA-Z]/.test(letter)) return { exact: ['\\c'], clauses: [] };
        this.pos++;
        return this.#char(letter.charCodeAt(0) % 32);
      }
      case 'k':
        if (this.#s[this.pos] === '<') this.pos = this.#s.indexOf('>', this.pos) + 1;
        return ANY; // a named backreference
      default:
        if (e >= '0' && e <= '9') {
          if (e === '0' && !/[0-9]/.test(this.#s[this.pos] ?? '')) return this.#char(0);
          while (/[0-9]/.test(this.#s[this.pos] ?? '')) this.pos++;
          return ANY; // a backreference (or a legacy octal escape): anything
        }
        return this.#char(e.charCodeAt(0)); // an identity escape: \. \/ \( …
    }
  }

  #char(code: number): Info {
    this.#lastEscapeCode = code;
    return literal(String.fromCharCode(code));
  }
}
