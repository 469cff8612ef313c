/**
 * PCRE pattern syntax, as CRS writes it, to a JavaScript RegExp (without the u flag, on the
 * byte strings the CRS engine matches: one char per byte, as ModSecurity's non-UTF PCRE sees).
 *
 * - leading inline flags `(?i)`, `(?s)`, `(?is)` become RegExp flags; a scoped `(?i:…)` group
 *   sets the flag for the whole pattern (Node 20 has no modifier groups; wider, never narrower);
 * - possessive quantifiers `X*+ X++ X?+ X{n,m}+` become the atomic-group idiom `(?=(X*))\N`,
 *   as does `(?>X)`: JS backtracking then cannot re-enter them, as PCRE cannot;
 * - `\A` → `^`, `\z` → `$` (JS `$` without m is already the very end), `\Z` → `(?=\n?$)`,
 *   `\h` → `[\t ]`, `\e` → `\x1b`, `\x{HH}` → `\xHH` / `\uHHHH`, POSIX classes `[[:alpha:]]`,
 *   `\s` → `[\t-\r ]` (JS's `\s` also takes NBSP, a byte PCRE does not count as space);
 * - `]` first in a class is a literal in PCRE and an empty class in JS: escaped.
 */

export interface Translated {
  readonly source: string;
  readonly flags: string;
}

export class PcreError extends Error {}

const POSIX: Readonly<Record<string, string>> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z', space: '\\t-\\r ',
  blank: ' \\t', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', word: '\\w', cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~', graph: '!-~',
};

export function translatePcre(pattern: string): Translated {
  let src = pattern;
  const flags = new Set<string>();
  // Leading inline flags, possibly after a ^.
  for (;;) {
    const m = /^(\^?)\(\?([imsx]+)\)/.exec(src);
    if (m === null) break;
    for (const f of m[2]!) flags.add(f);
    src = m[1]! + src.slice(m[0].length);
  }
  if (flags.has('x')) throw new PcreError('the x (extended) flag is not supported');
  const t = new Translator(src, flags);
  const out = t.run();
  let f = '';
  for (const x of ['i', 'm', 's']) if (flags.has(x)) f += x;
  return { source: out, flags: f };
}

class Translator {
  readonly #s: string;
  #i = 0;
  readonly #flags: Set<string>;
  /** Capturing groups so far in the output, for the backreferences of the atomic idiom. */
  #groups = 0;

  constructor(s: string, flags: Set<string>) {
    this.#s = s;
    this.#flags = flags;
  }

  run(): string {
    const out = this.#sequence();
    if (this.#i < this.#s.length) throw new PcreError(`unbalanced ) at ${this.#i}`);
    return out;
  }

  /** Alternatives up to a ')' or the end. */
  #sequence(): string {
    let out = '';
    const s = this.#s;
    while (this.#i < s.length && s[this.#i] !== ')') {
      if (s[this.#i] === '|') {
        out += '|';
        this.#i++;
        continue;
      }
      const groupsBefore = this.#groups;
      const atom = this.#atom();
      if (atom === null) continue;
      out += this.#quantified(atom, groupsBefore);
    }
    return out;
  }

  #quantified(atom: string, groupsBefore: number): string {
    const s = this.#s;
    const c = s[this.#i];
    let q = '';
    if (c === '*' || c === '+' || c === '?') {
      q = c;
      this.#i++;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(this.#i));
      if (m !== null) {
        q = m[0];
        this.#i += m[0].length;
      }
    }
    if (q === '') return atom;
    if (s[this.#i] === '?') {
      this.#i++;
      return atom + q + '?';
    }
    if (s[this.#i] === '+') {
      this.#i++;
      return this.#atomic(atom + q, groupsBefore);
    }
    return atom + q;
  }

  /**
   * `(?=(X))\N`: what X matched is fixed once, as PCRE's atomic group fixes it. The new capture
   * opens before any group inside X, so it takes the number after `groupsBefore` (the groups
   * inside, and after, move up by one: only CRS rules that capture would see it).
   */
  #atomic(inner: string, groupsBefore: number): string {
    this.#groups++;
    return `(?=(${inner}))\\${groupsBefore + 1}`;
  }

  #atom(): string | null {
    const s = this.#s;
    const c = s[this.#i]!;
    if (c === '\\') return this.#escape(false);
    if (c === '[') return this.#class();
    if (c === '(') return this.#group();
    this.#i++;
    if (c === '*' || c === '+' || c === '?') throw new PcreError(`nothing to repeat at ${this.#i - 1}`);
    return c;
  }

  #group(): string | null {
    const s = this.#s;
    this.#i++; // (
    if (s.startsWith('?#', this.#i)) {
      const end = s.indexOf(')', this.#i);
      if (end < 0) throw new PcreError('unterminated comment');
      this.#i = end + 1;
      return null;
    }
    let head = '(';
    let atomic = false;
    if (s[this.#i] === '?') {
      const rest = s.slice(this.#i);
      let m: RegExpExecArray | null;
      if (rest.startsWith('?:') || rest.startsWith('?=') || rest.startsWith('?!') || rest.startsWith('?<=') || rest.startsWith('?<!')) {
        const len = rest.startsWith('?<') ? 3 : 2;
        head += rest.slice(0, len);
        this.#i += len;
      } else if (rest.startsWith('?>')) {
        atomic = true;
        head = '(?:';
        this.#i += 2;
      } else if ((m = /^\?P?<([A-Za-z_]\w*)>/.exec(rest)) !== null) {
        head += `?<${m[1]}>`;
        this.#groups++;
        this.#i += m[0].length;
      } else if ((m = /^\?([imsx]*)(?:-[imsx]*)?:/.exec(rest)) !== null) {
        for (const f of m[1]!) this.#flags.add(f);
        head += '?:';
        this.#i += m[0].length;
      } else if ((m = /^\?([imsx]+)\)/.exec(rest)) !== null) {
        // A mid-pattern flag switch: widened to the whole pattern (see the file comment).
        for (const f of m[1]!) this.#flags.add(f);
        this.#i += m[0].length;
        return null;
      } else {
        throw new PcreError(`unsupported group syntax (${rest.slice(0, 4)} at ${this.#i - 1}`);
      }
    } else {
      this.#groups++;
    }
    const before = this.#groups;
    const inner = this.#sequence();
    if (s[this.#i] !== ')') throw new PcreError('missing )');
    this.#i++;
    if (atomic) return this.#atomic(inner, before);
    return head + inner + ')';
  }

  #escape(inClass: boolean): string {
    const s = this.#s;
    const n = s[this.#i + 1];
    if (n === undefined) throw new PcreError('trailing backslash');
    this.#i += 2;
    switch (n) {
      case 'A':
        return '^';
      case 'z':
        return '$';
      case 'Z':
        return '(?=\\n?$)';
      case 'h':
        return inClass ? '\\t ' : '[\\t ]';
      case 'H':
        return '[^\\t ]';
      case 'e':
        return '\\x1b';
      case 's':
        return inClass ? '\\t-\\r ' : '[\\t-\\r ]';
      case 'S':
        return inClass ? '\\S' : '[^\\t-\\r ]';
      case 'Q': {
        const end = s.indexOf('\\E', this.#i);
        const lit = end < 0 ? s.slice(this.#i) : s.slice(this.#i, end);
        this.#i = end < 0 ? s.length : end + 2;
        return lit.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
      }
      case 'x': {
        if (s[this.#i] === '{') {
          const end = s.indexOf('}', this.#i);
          if (end < 0) throw new PcreError('unterminated \\x{');
          const cp = parseInt(s.slice(this.#i + 1, end), 16);
          this.#i = end + 1;
          if (!Number.isFinite(cp) || cp > 0xffff) throw new PcreError('\\x{…} past U+FFFF');
          return cp <= 0xff ? '\\x' + cp.toString(16).padStart(2, '0') : '\\u' + cp.toString(16).padStart(4, '0');
        }
        return '\\x';
      }
      case '/':
        return '\\/';
      default:
        if (/[0-9]/.test(n) && n !== '0' && !inClass) return '\\' + n;
        if (/[A-Za-z]/.test(n) && !/[bBdDwWnrtfv0cuk]/.test(n)) {
          // Unknown letter escapes are literals in PCRE's lax mode; JS too, but say it plainly.
          return n;
        }
        return '\\' + n;
    }
  }

  #class(): string {
    const s = this.#s;
    this.#i++; // [
    let out = '[';
    if (s[this.#i] === '^') {
      out += '^';
      this.#i++;
    }
    if (s[this.#i] === ']') {
      out += '\\]';
      this.#i++;
    }
    while (this.#i < s.length && s[this.#i] !== ']') {
      const c = s[this.#i]!;
      if (c === '\\') {
        out += this.#escape(true);
        continue;
      }
      if (c === '[' && s[this.#i + 1] === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(s.slice(this.#i));
        if (m !== null) {
          const cls = POSIX[m[2]!];
          if (cls === undefined || m[1] === '^') throw new PcreError(`unsupported POSIX class ${m[0]}`);
          out += cls;
          this.#i += m[0].length;
          continue;
        }
      }
      if (c === '[') out += '\\[';
      else out += c;
      this.#i++;
    }
    if (s[this.#i] !== ']') throw new PcreError('unterminated character class');
    this.#i++;
    return out + ']';
  }
}
