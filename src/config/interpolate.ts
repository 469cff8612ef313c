import { type Document, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import { formatPath, type PathSegment } from './messages.js';

/**
 * `${NAME}` / `${NAME:-default}` interpolation (PRODUCT §3).
 *
 * It runs on the parsed YAML tree, one string scalar at a time, never on the
 * raw text: a value such as "x\nadmin: true" or "a: b" in the environment can
 * only ever become the content of the scalar it was written in, not new keys.
 *
 * - `${NAME}`: the variable's value; unset is an error (set-but-empty is "").
 * - `${NAME:-default}`: the default when the variable is unset or empty, as in
 *   POSIX sh; the default is literal text up to the first `}`.
 * - `$${` is an escape for a literal `${`; a `$` not followed by `{` is literal.
 * - Map keys are not interpolated: they are the structure of the file.
 * - A scalar that is exactly one placeholder is re-read as a YAML scalar, so
 *   `port: ${PORT:-8080}` is the number 8080 and `${FLAG:-true}` the boolean
 *   true, as if written in the file. Quoted scalars too: inside a flow map
 *   (`{ port: "${PORT}" }`) quotes are mandatory, as `{` and `}` are flow
 *   indicators. An explicit tag opts out: `!!str "${ID}"` stays a string.
 *   Any other scalar stays a string.
 */

const PLACEHOLDER = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const BODY = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;
/** Whole-scalar placeholder: the case that is re-read as a typed YAML scalar. */
const SOLE_PLACEHOLDER = /^\$\{[^}]*\}$/;
/** Characters a YAML number or boolean can contain; anything else stays a string without asking the parser. */
const MAYBE_TYPED = /^[-+.0-9A-Za-z_]+$/;

/**
 * Expands the placeholders of one string. Problems (without a path) are
 * appended to `problems`; the returned string is then not meaningful.
 */
export function expandString(raw: string, env: NodeJS.ProcessEnv, problems: string[]): string {
  return raw.replace(PLACEHOLDER, (whole: string, body: string | undefined) => {
    if (whole === '$${') return '${';
    const m = body === undefined ? null : BODY.exec(body);
    if (m === null) {
      // Never echo the surrounding value: it may be a secret.
      problems.push(body === undefined
        ? 'unterminated "${" (write "$${" for a literal "${")'
        : `invalid placeholder "${whole}" (use \${NAME} or \${NAME:-default}, NAME matching [A-Za-z_][A-Za-z0-9_]*)`);
      return '';
    }
    const [, name = '', fallback] = m;
    const value = env[name];
    if (fallback !== undefined) return value === undefined || value === '' ? fallback : value;
    if (value === undefined) {
      problems.push(`environment variable ${name} is not set`);
      return '';
    }
    return value;
  });
}

/**
 * Reads an expanded sole-placeholder value as YAML would read it in a plain
 * scalar, keeping only numbers and booleans: null would turn an empty
 * variable into a missing value, and anything else is the string itself.
 */
function typedScalar(value: string): string | number | boolean {
  if (!MAYBE_TYPED.test(value)) return value;
  const doc = parseDocument(value);
  if (doc.errors.length > 0 || !isScalar(doc.contents)) return value;
  const typed: unknown = doc.contents.value;
  return typeof typed === 'number' || typeof typed === 'boolean' ? typed : value;
}

/**
 * Interpolates every string scalar value of `doc` in place and returns the
 * problems found, each naming its config path
 * (`listeners.http.port: environment variable PORT is not set`).
 */
export function interpolateDocument(doc: Document, env: NodeJS.ProcessEnv = process.env): string[] {
  const problems: string[] = [];
  const visit = (node: unknown, path: PathSegment[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        visit(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item, [...path, i]));
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
      const found: string[] = [];
      const raw = node.value;
      const expanded = expandString(raw, env, found);
      for (const f of found) problems.push(`${formatPath(path)}: ${f}`);
      node.value = node.tag === undefined && SOLE_PLACEHOLDER.test(raw) ? typedScalar(expanded) : expanded;
    }
    // Aliases are skipped: the anchored node they point to is interpolated where it is defined.
  };
  visit(doc.contents, []);
  return problems;
}
