/**
 * SecLang as ModSecurity reads it from an Apache-style configuration file: one directive per
 * logical line, a trailing `\` continues it on the next physical line, `#` at the start of a
 * line is a comment, arguments are bare words or "double-quoted" strings in which only `\"`
 * is an escape (Apache's ap_getword_conf: every other backslash is kept, so a regex's `\\`
 * reaches the operator as written).
 */

export interface Directive {
  /** The directive name as written (`SecRule`, `SecAction`, …). */
  readonly name: string;
  readonly args: readonly string[];
  readonly file: string;
  /** 1-based line of the directive's first physical line. */
  readonly line: number;
}

/** A rule file that cannot be read as SecLang: the message names the file and the line. */
export class CrsSyntaxError extends Error {
  readonly code = 'PORTCULLIS_ERR_CRS_SYNTAX';
  readonly file: string;
  readonly line: number;

  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.file = file;
    this.line = line;
  }
}

/** The directives of `text`, the content of `file` (used in positions and errors only). */
export function lex(text: string, file: string): Directive[] {
  const lines = text.split('\n');
  const out: Directive[] = [];
  let i = 0;
  while (i < lines.length) {
    const start = i;
    let logical = stripCr(lines[i]!);
    i++;
    if (/^\s*(#|$)/.test(logical)) continue;
    while (logical.endsWith('\\') && !logical.endsWith('\\\\\\') && i < lines.length) {
      logical = logical.slice(0, -1) + stripCr(lines[i]!);
      i++;
    }
    out.push(splitDirective(logical, file, start + 1));
  }
  return out;
}

function stripCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

function splitDirective(line: string, file: string, lineNo: number): Directive {
  const args: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= n) break;
    if (line[i] === '"' || line[i] === "'") {
      const quote = line[i]!;
      let value = '';
      i++;
      let closed = false;
      while (i < n) {
        const c = line[i]!;
        if (c === '\\' && line[i + 1] === quote) {
          value += quote;
          i += 2;
          continue;
        }
        if (c === quote) {
          closed = true;
          i++;
          break;
        }
        value += c;
        i++;
      }
      if (!closed) throw new CrsSyntaxError(file, lineNo, `unterminated ${quote === '"' ? 'double' : 'single'}-quoted argument`);
      args.push(value);
    } else {
      const begin = i;
      while (i < n && line[i] !== ' ' && line[i] !== '\t') i++;
      args.push(line.slice(begin, i));
    }
  }
  const name = args.shift()!;
  return { name, args, file, line: lineNo };
}
