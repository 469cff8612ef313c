/**
 * A tolerant JSON scanner for the WAF: it walks the text once and hands every object key and
 * every string value to the engine, without building the document. It accepts what JSON.parse
 * refuses — a body cut at inspectBodyBytes, NDJSON, trailing garbage — because an attacker
 * controls the body and an upstream parser may be just as lenient; numbers, booleans and null
 * carry no attack text and are skipped.
 *
 * Names: a value's argument name is its key path with dots and without array indices
 * (`{"a":[{"b":"x"}]}` → `a.b`), which is what exclusions match (`args:a.b`). The name rules see
 * a key with its parent (`constructor.prototype`), enough for prototype-pollution shapes.
 */
import type { RuleSet, Scan } from './engine.js';
import { S_BODY } from './exclusions.js';
import { T_NAME, T_VALUE } from './rule.js';

/** Containers deeper than this still have their strings inspected; only their paths stop growing. */
const MAX_PATH_DEPTH = 32;

const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Where readString stopped: the index after the closing quote (scanning is synchronous, so one slot serves). */
let stringEnd = 0;

/**
 * The next backslash at or after the last string read (-1: none left), so that a body without
 * escapes is not searched to its end once per string.
 */
let nextBackslash = -1;

/** Reads the string starting after the opening quote at `start`; stringEnd is set past its closing quote. */
function readString(text: string, start: number): string {
  const close = text.indexOf('"', start);
  if (nextBackslash >= 0 && nextBackslash < start) nextBackslash = text.indexOf('\\', start);
  const slash = nextBackslash;
  // The common case: no escape before the closing quote.
  if (close >= 0 && (slash < 0 || slash > close)) {
    stringEnd = close + 1;
    return text.slice(start, close);
  }
  let i = start;
  let out = '';
  let from = start;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      stringEnd = i + 1;
      return out + text.slice(from, i);
    }
    if (c === 0x5c /* \ */) {
      out += text.slice(from, i);
      const e = text[i + 1];
      if (e === 'u') {
        const cp = Number.parseInt(text.slice(i + 2, i + 6), 16);
        out += Number.isNaN(cp) ? '' : String.fromCharCode(cp);
        i += 6;
      } else {
        out += e === undefined ? '' : (ESCAPES[e] ?? e);
        i += 2;
      }
      from = i;
      continue;
    }
    i++;
  }
  stringEnd = text.length; // cut off mid-string
  return out + text.slice(from, Math.min(i, text.length));
}

/**
 * `parent + "." + key`, remembered: an API's key paths repeat in every element of an array and
 * in every request, and a remembered string comes with its hash, which the engine's clean-value
 * lookup would otherwise compute again. At most MAX_JOINED paths of at most MAX_JOINED_CHARS
 * each; cleared when full. A longer path is not an API's and is joined without a copy: copying
 * it for every child of a long key would cost the square of the body (issue 22).
 */
const joined = new Map<string, Map<string, string>>();
let joinedCount = 0;
const MAX_JOINED = 4096;
const MAX_JOINED_CHARS = 256;

/**
 * How much of a parent key the name rules see before a key: its last segment, cut to its last
 * MAX_PARENT_NAME_CHARS characters. Enough for every shape that spans the two
 * (`constructor.prototype`), and it keeps the work per key independent of its parent's length:
 * a 40 KB key with 4,000 children was 160 MB of inspection (issue 22).
 */
const MAX_PARENT_NAME_CHARS = 64;

/** A flat copy: `s` may be a slice of a request body, which must not stay alive in a map. */
const copy = (s: string): string => ('.' + s).slice(1);

function join(parent: string, key: string): string {
  if (parent === '') return key;
  if (parent.length + key.length >= MAX_JOINED_CHARS) return parent + '.' + key;
  let byKey = joined.get(parent);
  const known = byKey?.get(key);
  if (known !== undefined) return known;
  if (joinedCount >= MAX_JOINED) {
    joined.clear();
    joinedCount = 0;
    byKey = undefined;
  }
  if (byKey === undefined) {
    byKey = new Map();
    joined.set(copy(parent), byKey);
  }
  const path = copy(parent + '.' + key);
  byKey.set(copy(key), path);
  joinedCount++;
  return path;
}

/** The part of a parent key the name rules see (MAX_PARENT_NAME_CHARS). */
function parentName(key: string): string {
  const dot = key.lastIndexOf('.');
  return key.slice(Math.max(dot + 1, key.length - MAX_PARENT_NAME_CHARS));
}

/** Letters, digits, `_` and `-` only: the keys APIs use, which no rule matches alone. */
function isIdentifier(key: string): boolean {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d;
    if (!ok) return false;
  }
  return true;
}

export function scanJson(rules: RuleSet, scan: Scan, text: string): void {
  nextBackslash = text.indexOf('\\');
  // Per container: is it an object, its key path, and the last key of that path.
  const isObject: boolean[] = [];
  const paths: string[] = [];
  const lastKeys: string[] = [];
  let key: string | null = null; // the last key read in the current object
  let expectKey = false;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const depth = paths.length;
      const parent = depth === 0 ? '' : paths[depth - 1]!;
      if (depth < MAX_PATH_DEPTH) {
        isObject.push(c === 0x7b);
        paths.push(key === null ? parent : join(parent, key));
        // The last dot-separated segment of the new path (its tail when long): what the name rules put before a key.
        lastKeys.push(key === null ? (depth === 0 ? '' : lastKeys[depth - 1]!) : parentName(key));
      }
      key = null;
      expectKey = c === 0x7b;
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (isObject.length > 0) {
        isObject.pop();
        paths.pop();
        lastKeys.pop();
      }
      key = null;
      expectKey = false;
      i++;
    } else if (c === 0x2c /* , */) {
      const inObject = isObject.length > 0 && isObject[isObject.length - 1]!;
      expectKey = inObject;
      if (inObject) key = null;
      i++;
    } else if (c === 0x22 /* " */) {
      const value = readString(text, i + 1);
      i = stringEnd;
      const depth = paths.length;
      const parent = depth === 0 ? '' : paths[depth - 1]!;
      if (expectKey) {
        key = value;
        expectKey = false;
        // The name rules see a key with its parent key (`constructor.prototype`).
        const parentKey = depth === 0 ? '' : lastKeys[depth - 1]!;
        rules.inspect(scan, T_NAME, join(parentKey, value), S_BODY, parent, value);
        // Anchored name rules (a Shellshock or traversal key) must also see a nested key alone.
        if (parentKey !== '' && !isIdentifier(value)) rules.inspect(scan, T_NAME, value, S_BODY, parent, value);
      } else {
        rules.inspect(scan, T_VALUE, value, S_BODY, parent, key);
      }
    } else {
      i++;
    }
  }
}
