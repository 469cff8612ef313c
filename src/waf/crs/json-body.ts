/**
 * JSON request bodies as libmodsecurity 3's JSON processor (yajl callbacks) hands them to CRS,
 * checked against nginx + libmodsecurity 3.0.9: every scalar is an argument, not only strings
 * (`{"user":{"$exists":true}}` gives ARGS_NAMES `json.user.$exists`, which CRS 942290 looks
 * for); object members are `prefix.key`, array elements `prefix.array_N`; `true`/`false` and
 * numbers keep their text, `null` is the empty string; empty containers give nothing.
 *
 * Tolerant like the built-in scanner (../json-scan.ts): a body cut at inspectBodyBytes, NDJSON
 * or trailing garbage still yields its values — an upstream parser may be as lenient, so what
 * ModSecurity would refuse as a parse error is read rather than skipped.
 */

export interface JsonArg {
  readonly name: string;
  readonly value: string;
}

/** Names stop growing past this length: a deep chain of long keys must not cost the square of the body. */
const MAX_PREFIX_CHARS = 1024;

interface Container {
  readonly prefix: string;
  readonly array: boolean;
  index: number;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** A string token from the quote at `open`: its decoded text and the index after it. */
function stringAt(text: string, open: number): [string, number] {
  let out = '';
  let run = open + 1;
  let i = run;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') return [out + text.slice(run, i), i + 1];
    if (c !== '\\') continue;
    out += text.slice(run, i);
    const e = text[i + 1] ?? '';
    if (e === 'u') {
      const hex = text.slice(i + 2, i + 6);
      out += /^[0-9a-fA-F]{4}$/.test(hex) ? String.fromCharCode(parseInt(hex, 16)) : '';
      i += 5;
    } else {
      out += SIMPLE_ESCAPES[e] ?? e;
      i += 1;
    }
    run = i + 1;
  }
  return [out + text.slice(run), text.length]; // cut off inside the string
}

const DELIMITER = /[\s,:[\]{}"]/;

/** A bare token (number, true, false, null, or garbage) from `start`: its text and end. */
function bareAt(text: string, start: number): [string, number] {
  let i = start;
  while (i < text.length && !DELIMITER.test(text[i]!)) i++;
  return [text.slice(start, i), i];
}

/** The arguments of a JSON text, at most `max`. */
export function jsonArguments(text: string, max: number): JsonArg[] {
  const out: JsonArg[] = [];
  const stack: Container[] = [];
  let key: string | null = null;
  let expectKey = false;
  const nameHere = (): string => {
    const top = stack[stack.length - 1];
    if (top === undefined) return 'json';
    if (top.prefix.length > MAX_PREFIX_CHARS) return top.prefix;
    return top.array ? `${top.prefix}.array_${top.index}` : `${top.prefix}.${key ?? ''}`;
  };
  const valueDone = (): void => {
    const top = stack[stack.length - 1];
    if (top?.array === true) top.index++;
  };
  let i = 0;
  while (i < text.length && out.length < max) {
    const c = text[i]!;
    if (c === '{' || c === '[') {
      stack.push({ prefix: stack.length === 0 ? 'json' : nameHere(), array: c === '[', index: 0 });
      expectKey = c === '{';
      key = null;
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      valueDone();
      expectKey = false;
      i++;
    } else if (c === ',') {
      expectKey = stack[stack.length - 1]?.array === false;
      i++;
    } else if (c === '"') {
      const [s, end] = stringAt(text, i);
      i = end;
      if (expectKey) {
        key = s;
        expectKey = false;
      } else {
        out.push({ name: nameHere(), value: s });
        valueDone();
      }
    } else if (c === ':' || c === ' ' || c === '\n' || c === '\r' || c === '\t') {
      i++;
    } else {
      const [token, end] = bareAt(text, i);
      i = end > i ? end : i + 1;
      if (token === '') continue;
      out.push({ name: nameHere(), value: token === 'null' ? '' : token });
      valueDone();
    }
  }
  return out;
}
