/**
 * The transformed forms of one value (rule.ts `Form`), each computed at most once however many
 * rules ask for it, and only when a rule that survived the pre-filter asks. The engine owns one
 * FormCache and resets it per value: evaluation of a value is synchronous, so one scratch cache
 * serves every request without a per-value allocation.
 */
import { htmlEntityDecode, jsUnescape, urlDecodeRepeated } from './decode.js';
import { SAW_DROPPED, SAW_WHITESPACE_RUN } from './literal-set.js';
import { FORM_COUNT, Form } from './rule.js';
import { TextBuffer } from './text-buffer.js';

const isWs = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/**
 * Removes NUL/controls and turns every whitespace run into one space; `s` itself when already
 * clean. With `keepNewlines` a run that holds a line break becomes one "\n" instead (the shell
 * form, where a newline separates commands).
 */
/**
 * Would collapseWhitespace change `s`: a control (bar LF when kept) or two whitespace characters
 * in a row? A charCode loop: the equivalent regex alternation (`[\x00-\x1f\x7f]| [ \t…]`) costs
 * irregexp a trial of both branches at every position, 10 % of the WAF's time on prose.
 */
function needsCollapse(s: string, keepNewlines: boolean): boolean {
  let prevWs = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x20 && c !== 0x7f) {
      prevWs = false;
      continue;
    }
    if (c === 0x20 || (keepNewlines && c === 0x0a)) {
      if (prevWs) return true;
      prevWs = true;
      continue;
    }
    return true; // a control, or whitespace other than space (and LF when kept)
  }
  return false;
}

export function collapseWhitespace(s: string, keepNewlines = false): string {
  if (!needsCollapse(s, keepNewlines)) return s;
  let out = '';
  let from = 0;
  let run = 0; // 0: not in a whitespace run, 1: spaces only, 2: the run holds a line break
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : -1;
    const ws = c >= 0 && isWs(c);
    const ctl = !ws && c >= 0 && (c < 0x20 || c === 0x7f);
    if (ws || ctl || c < 0) {
      if (i > from) {
        if (run !== 0) out += run === 2 ? '\n' : ' ';
        run = 0;
        out += s.slice(from, i);
      }
      if (ws) run = Math.max(run, keepNewlines && (c === 0x0a || c === 0x0d) ? 2 : 1);
      from = i + 1;
    }
  }
  if (run !== 0) out += run === 2 ? '\n' : ' ';
  return out;
}

/** Any character past ASCII (the only ones NFKC can change). */
const NON_ASCII = /[\u0080-\uffff]/;

function hasNonAscii(s: string): boolean {
  return NON_ASCII.test(s);
}

/**
 * `/*…*\/` → `repl`; a MySQL executable comment `/*!50000 … *\/` keeps its content; an unclosed
 * one runs to the end. One forward pass (issue 22): every search starts where the previous one
 * stopped, so the cost is linear in `s` whatever it holds. `repl` is `' '` or `''`.
 */
export function replaceSqlComments(s: string, repl: string): string {
  // A "*/" before any "/*" closes a comment opened in another field (`user=admin'/*`,
  // `pass=*/OR 1=1#`): the upstream concatenates both into one query, so what precedes it is
  // comment, and so is everything up to the last such stray close. `open` is the first "/*" at
  // or after `from`, searched again only once `from` has passed it.
  let from = 0;
  let open = s.indexOf('/*');
  for (;;) {
    const close = s.indexOf('*/', from);
    if (close < 0) break;
    if (open >= 0 && open < from) open = s.indexOf('/*', from);
    if (open >= 0 && open < close) break;
    from = close + 2;
  }
  const t = from === 0 ? s : repl + s.slice(from);
  let i = t.indexOf('/*');
  if (i < 0) return t;
  let out = '';
  let done = 0;
  while (i >= 0) {
    out += t.slice(done, i);
    const close = t.indexOf('*/', i + 2);
    const end = close < 0 ? t.length : close + 2;
    if (t.charCodeAt(i + 2) === 0x21 /* ! */) {
      let k = i + 3;
      while (k < end - 2 && t.charCodeAt(k) >= 0x30 && t.charCodeAt(k) <= 0x39) k++;
      out += ' ' + t.slice(k, close < 0 ? t.length : close) + ' ';
    } else {
      out += repl;
    }
    done = end;
    i = close < 0 ? -1 : t.indexOf('/*', end);
  }
  return out + t.slice(done);
}

/** What a shell (or cmd.exe's ^) drops between the letters of a word. */
const SHELL_QUOTING = /['"\\^]/g;

/** `s` without `'` `"` `\` `^` (a global replace: V8 runs it natively, 3× a charCode loop). */
function dropShellQuoting(s: string): string {
  return s.replace(SHELL_QUOTING, '');
}

/**
 * A shell's reading: quote splitting (`c''at`), `\`, `^` (cmd.exe) vanish; `$IFS`, `${IFS}` are
 * spaces; line breaks stay (as one "\n") because they separate commands.
 */
export function shellNormalise(s: string): string {
  let t = s;
  if (t.includes('ifs')) t = t.split('${ifs}').join(' ').split('$ifs').join(' ');
  if (t.includes('$@')) t = t.split('$@').join('');
  t = dropShellQuoting(t);
  if (t.includes('\r')) t = t.split('\r').join('\n');
  return collapseWhitespace(t, true);
}

/** pathNormalise's output (one serves every value: evaluation is synchronous). */
const pathOut = new TextBuffer();

/**
 * `\` → `/`, `//` → `/`, `/./` → `/`, and any run of dots of two or more → `..`. One pass
 * (issue 22): the output's last two characters say whether a `/./` has just been written, so
 * it is folded as it appears instead of searched for and copied again.
 */
export function pathNormalise(s: string): string {
  if (!s.includes('\\') && !s.includes('//') && !s.includes('/./') && !s.includes('...')) return s;
  const out = pathOut;
  out.reset(s.length);
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c === 0x5c) c = 0x2f;
    const last = out.last();
    if (c === 0x2f && last === 0x2f) continue; // a slash run is one slash
    if (c === 0x2e && last === 0x2e && out.last(1) === 0x2e) continue; // a dot run is at most two
    if (c === 0x2f && last === 0x2e && out.last(1) === 0x2f) {
      out.length--; // "/." then "/": drop the dot; the slash before it stays
      continue;
    }
    out.push(c);
  }
  return out.toString();
}

/**
 * What a pass over the value already established (prefilter.ts), so that forms skip their own
 * checks: VALUE_SIMPLE is skeleton.ts's "simple" (nothing to decode, no comment, no `$`, no path
 * to fold); the other two bits are scanSkeleton()'s SAW_* and mean something only with it.
 */
export const VALUE_SIMPLE = 4;

export class FormCache {
  #raw = '';
  #known = 0;
  readonly #forms: (string | undefined)[] = new Array<string | undefined>(FORM_COUNT).fill(undefined);

  /** Starts a value; `known`: VALUE_SIMPLE | SAW_* bits when a pass established them, else 0. */
  reset(raw: string, known = 0): void {
    this.#raw = raw;
    this.#known = known;
    this.#forms.fill(undefined);
  }

  get raw(): string {
    return this.#raw;
  }

  get(form: Form): string {
    const hit = this.#forms[form];
    if (hit !== undefined) return hit;
    const v = this.#compute(form);
    this.#forms[form] = v;
    return v;
  }

  #compute(form: Form): string {
    if ((this.#known & VALUE_SIMPLE) !== 0) return this.#computeSimple(form);
    switch (form) {
      case Form.Lower:
        return this.#raw.toLowerCase();
      case Form.Decoded: {
        let d = urlDecodeRepeated(this.#raw);
        // NFKC folds look-alikes an attacker may use for syntax: fullwidth ＜ is <, ﹩ is $.
        if (hasNonAscii(d)) d = d.normalize('NFKC');
        return d === this.#raw ? this.get(Form.Lower) : d.toLowerCase();
      }
      case Form.Norm: {
        const decoded = this.get(Form.Decoded);
        let n = jsUnescape(htmlEntityDecode(decoded));
        // An entity can spell a %XX (`&#37;27`) or an upper-case letter: decode and fold again.
        if (n !== decoded) n = urlDecodeRepeated(n).normalize('NFKC').toLowerCase();
        return collapseWhitespace(n);
      }
      case Form.Sql: {
        const norm = this.get(Form.Norm);
        const sql = replaceSqlComments(norm, ' ');
        return sql === norm ? norm : collapseWhitespace(sql);
      }
      case Form.SqlStrip:
        return replaceSqlComments(this.get(Form.Norm), '');
      case Form.Cmd:
        return shellNormalise(this.get(Form.Decoded));
      case Form.Path:
        return pathNormalise(this.get(Form.Norm));
      default:
        return this.#raw;
    }
  }

  /**
   * A simple value's forms (skeleton.ts): each is the lower-cased value, with whitespace runs
   * collapsed if it has any, for the shell form `'` `"` `^` removed if it has any, and for the
   * path form slash and dot runs folded.
   */
  #computeSimple(form: Form): string {
    const known = this.#known;
    switch (form) {
      case Form.Lower:
        return this.#raw.toLowerCase();
      case Form.Cmd:
        // No `$` and no `\` here. Without whitespace runs in the skeleton, which reads quotes
        // as absent, removing the quotes cannot leave a run either: nothing to collapse.
        if ((known & SAW_WHITESPACE_RUN) !== 0) return shellNormalise(this.get(Form.Lower));
        return (known & SAW_DROPPED) === 0 ? this.get(Form.Lower) : dropShellQuoting(this.get(Form.Lower));
      case Form.Decoded:
        return this.get(Form.Lower);
      case Form.Path:
        return pathNormalise(this.get(Form.Norm));
      default: // Norm, and the SQL forms, which have no comment to strip here
        return (known & SAW_WHITESPACE_RUN) === 0 ? this.get(Form.Lower) : collapseWhitespace(this.get(Form.Lower));
    }
  }
}
