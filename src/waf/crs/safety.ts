/**
 * Linear-time safety of a translated CRS pattern. JS's irregexp backtracks; CRS's patterns are
 * written for PCRE with its match limits. A pattern is called proven when no quantified group
 * holds another unbounded quantifier (star height one, with backtracking into a group bounded by
 * the atomic idiom of pcre.ts): one start position then costs at most linear work in what one
 * quantifier can consume, so a match costs O(n²) at worst and in practice (literal-led CRS
 * patterns) close to O(n). Such patterns run on inputs up to PROVEN_INPUT_CHARS.
 *
 * Anything else — `(?:a+)+`, `(?:x|y*)*`, backreferences — is unproven: it runs only on the
 * first UNPROVEN_INPUT_CHARS of a value (ModSecurity bounds PCRE the same way, with
 * SecPcreMatchLimit) and is listed in the load report, so an operator can see the bound.
 */

export interface Safety {
  readonly proven: boolean;
  /** Why not, for the load report. */
  readonly reason: string | null;
}

/** Longest value a proven pattern reads; CRS's own ARGS limits are far below. */
export const PROVEN_INPUT_CHARS = 65536;
/** Longest prefix an unproven pattern reads. */
export const UNPROVEN_INPUT_CHARS = 4096;

export function checkSafety(source: string): Safety {
  // Per open group: does it hold an unbounded quantifier?
  const stack: boolean[] = [false];
  let i = 0;
  let lastGroup: boolean | null = null;
  let atomicNext = false;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      if (/[1-9]/.test(source[i + 1] ?? '')) {
        // The atomic idiom's own backreference follows `(?=(`…`))`; any other is a real one.
        if (!atomicNext) return { proven: false, reason: 'backreference' };
        atomicNext = false;
      }
      i += 2;
      lastGroup = null;
      continue;
    }
    if (c === '[') {
      i++;
      if (source[i] === '^') i++;
      if (source[i] === ']') i++;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      i++;
      lastGroup = null;
      continue;
    }
    if (c === '(') {
      if (source.startsWith('(?=(', i)) atomicNext = true;
      stack.push(false);
      i++;
      continue;
    }
    if (c === ')') {
      lastGroup = stack.pop() ?? false;
      if (lastGroup) stack[stack.length - 1] = true;
      i++;
      continue;
    }
    const unbounded = c === '*' || c === '+' || (c === '{' && /^\{\d+,\}/.test(source.slice(i)));
    if (unbounded) {
      if (lastGroup === true) return { proven: false, reason: `nested unbounded quantifier at ${i}` };
      stack[stack.length - 1] = true;
    }
    if (c !== '?' && c !== '*' && c !== '+' && c !== '{') lastGroup = null;
    i++;
  }
  return { proven: true, reason: null };
}
