/**
 * One pass over a value instead of one per transformed form, for the common value (issue 5 cost).
 *
 * The skeleton of a string: ASCII lower-cased, without `'`, `"` and `^`, each run of
 * characters ≤ U+0020 (whitespace) read as one space, each run of `/` as one `/`, and each run
 * of dots as at most two.
 *
 * Why it serves every form at once. Take a *simple* value: none of `% & \ * $`, no control
 * character, nothing past ASCII (SIMPLE_EXCLUDED), and no `/./`. Then its forms (forms.ts) are
 * the value lower-cased and at most: whitespace runs collapsed (Norm, Sql, SqlStrip, Path, Cmd),
 * `'` `"` `^` removed (Cmd), slash runs folded and dot runs cut to two (Path). Nothing decodes,
 * no comment is stripped, no `$IFS` expands. The skeleton does each of those things itself, so
 * every form has the value's skeleton as its own skeleton. And if a literal occurs in a string,
 * the literal's skeleton occurs in the string's skeleton: removing characters and shortening
 * runs keep a substring a substring. Hence, for a simple value, a rule can match one of its
 * forms only if, for each of its required-literal sets (required-literals.ts), the value's
 * skeleton holds the skeleton of one of the set's literals. One automaton pass reading the value
 * as its skeleton (LiteralGroups.scanSkeleton) checks that for every rule, and no form is
 * computed for a rule that fails. A set with a literal whose skeleton is empty (`'`) is dropped:
 * it says nothing about a skeleton. test/waf/prefilter.test.ts holds the engine to brute force.
 */
import { C_AMP, C_BSLASH, C_CTRL, C_DOLLAR, C_NONASCII, C_PERCENT, C_SLASH, C_STAR } from './chars.js';
import { minimise } from './required-literals.js';
import { TextBuffer } from './text-buffer.js';

/** Character classes (chars.ts) of which a simple value has none. */
export const SIMPLE_EXCLUDED = C_PERCENT | C_AMP | C_BSLASH | C_STAR | C_DOLLAR | C_CTRL | C_NONASCII;

/** Is `value`, whose character mask is `mask`, simple (see the file comment)? */
export function isSimple(value: string, mask: number): boolean {
  return (mask & SIMPLE_EXCLUDED) === 0 && ((mask & C_SLASH) === 0 || !value.includes('/./'));
}

/** `'`, `"` and `^`: what the shell form drops and the skeleton leaves out. */
export function droppedFromSkeleton(c: number): boolean {
  return c === 0x27 || c === 0x22 || c === 0x5e;
}

/** skeleton()'s output: a buffer, since the last two characters written are read back (text-buffer.ts). */
const skeletonOut = new TextBuffer();

/** The skeleton of `s` (built for literals at load; values are read as skeletons, never built). */
export function skeleton(s: string): string {
  const out = skeletonOut;
  out.reset(s.length);
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (droppedFromSkeleton(c)) continue;
    if (c <= 0x20) c = 0x20;
    const last = out.last();
    if ((c === 0x20 || c === 0x2f) && last === c) continue;
    if (c === 0x2e && last === 0x2e && out.last(1) === 0x2e) continue;
    if (c < 0x80) {
      out.push(c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
    } else {
      const lower = String.fromCharCode(c).toLowerCase();
      for (let k = 0; k < lower.length; k++) out.push(lower.charCodeAt(k));
    }
  }
  return out.toString();
}

/** The skeleton requirement of a rule: each set's literals as skeletons; sets that say nothing dropped. */
export function skeletonClauses(clauses: readonly (readonly string[])[]): string[][] {
  const out: string[][] = [];
  for (const set of clauses) {
    const skeletons = set.map(skeleton);
    if (!skeletons.includes('')) out.push(minimise(skeletons));
  }
  return out;
}
