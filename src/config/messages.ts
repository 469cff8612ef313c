import type { ErrorObject } from 'ajv';

/**
 * Turns ajv's output into the `path: message` problems users read
 * (PRODUCT §3: every error names its path, `routes[1].upstream: …`).
 */

/** An object key or an array index. */
export type PathSegment = string | number;

/** A problem before formatting: kept structured so problems can be ordered by where they occur. */
export interface Problem {
  path: readonly PathSegment[];
  message: string;
}

const SIMPLE_KEY = /^[A-Za-z_$][\w$-]*$/;

/** `['routes', 1, 'upstream']` → `routes[1].upstream`; odd keys are quoted: `set["X Y"]`; the root is `(root)`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (SIMPLE_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === '' ? '(root)' : out;
}

/** `routes[1].upstream: must be an http(s) URL`. */
export function formatProblem(p: Problem): string {
  return `${formatPath(p.path)}: ${p.message}`;
}

/**
 * JSON pointer → segments. The data decides whether `1` is an array index or
 * an object key (a header map may have a key "1"), so walk it alongside.
 */
function pointerToPath(pointer: string, root: unknown): PathSegment[] {
  if (pointer === '') return [];
  const out: PathSegment[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      out.push(Number(key));
      node = node[Number(key)];
    } else {
      out.push(key);
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return out;
}

const TYPE_NAMES: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean (true or false)',
  object: 'an object (a YAML mapping)',
  array: 'an array (a YAML list)',
  null: 'null',
};

/** Keywords whose failure the schema's `errorMessage` does not explain (they have better generic texts). */
const OWN_MESSAGE_KEYWORDS = new Set(['type', 'required', 'additionalProperties', 'if', 'propertyNames', 'minLength']);

function customMessage(e: ErrorObject): string | undefined {
  const m: unknown = (e.parentSchema as Record<string, unknown> | undefined)?.errorMessage;
  return typeof m === 'string' ? m : undefined;
}

function genericMessage(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  const n = (k: string) => Number(p[k]);
  switch (e.keyword) {
    case 'type':
      return `must be ${TYPE_NAMES[String(p.type)] ?? String(p.type)}`;
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'pattern':
      return `must match the pattern ${String(p.pattern)}`;
    case 'minimum':
    case 'maximum':
      // One message for a range, rather than ajv's ">= 0" that hides the upper bound.
      if (typeof parent.minimum === 'number' && typeof parent.maximum === 'number') {
        return `must be between ${parent.minimum} and ${parent.maximum}`;
      }
      return `must be ${e.keyword === 'minimum' ? '>=' : '<='} ${n('limit')}`;
    case 'minLength':
      return n('limit') === 1 ? 'must not be empty' : `must be at least ${n('limit')} characters long`;
    case 'maxLength':
      return `must be at most ${n('limit')} characters long`;
    case 'minItems':
      return n('limit') === 1 ? 'must not be empty' : `must have at least ${n('limit')} items`;
    case 'maxItems':
      return `must have at most ${n('limit')} items`;
    case 'minProperties':
      return n('limit') === 1 ? 'must not be empty' : `must have at least ${n('limit')} keys`;
    case 'maxProperties':
      return `must have at most ${n('limit')} keys`;
    case 'uniqueItems':
      return `must not contain duplicates (items ${Math.min(n('i'), n('j'))} and ${Math.max(n('i'), n('j'))} are equal)`;
    case 'not':
      return 'is not allowed here';
    case 'anyOf':
    case 'oneOf':
      return 'does not match any allowed form';
    default:
      return e.message ?? 'is invalid';
  }
}

/** Keywords whose failure inside an if/then/else union just means "wrong kind of value". */
const KIND_KEYWORDS = new Set(['type', 'enum', 'const']);

/**
 * Converts ajv errors (collected with allErrors + verbose) into problems,
 * removing the noise ajv produces for unions:
 * - anyOf/oneOf carrying an errorMessage: one problem replaces the failures
 *   of every branch at and below that path;
 * - if/then/else carrying an errorMessage: a wrong-kind failure of the chosen
 *   branch (`upstream: 5` → "must be object") becomes that message, while
 *   specific failures inside it (`upstream.timeoutMs`) stay specific; the
 *   `must match "else" schema` error itself is always dropped;
 * - propertyNames: the outer "property name must be valid" is dropped and the
 *   inner failure is reported at the offending key.
 */
export function describeAjvErrors(errors: readonly ErrorObject[], root: unknown): Problem[] {
  const unionPaths = errors
    .filter((e) => (e.keyword === 'anyOf' || e.keyword === 'oneOf') && customMessage(e) !== undefined)
    .map((e) => e.instancePath);
  const ifMessages = new Map<string, string>();
  for (const e of errors) {
    const m = customMessage(e);
    if (e.keyword === 'if' && m !== undefined) ifMessages.set(e.instancePath, m);
  }
  // "must not be empty" says all there is to say about '': drop the pattern failure that comes with it.
  const emptyPaths = new Set(errors.filter((e) => e.keyword === 'minLength').map((e) => e.instancePath));
  const swallowed = (e: ErrorObject) =>
    (unionPaths.some((u) => e.instancePath === u || e.instancePath.startsWith(`${u}/`)) &&
      !(e.keyword === 'anyOf' || e.keyword === 'oneOf')) ||
    (e.keyword === 'pattern' && emptyPaths.has(e.instancePath));

  const problems: Problem[] = [];
  for (const e of errors) {
    if (e.keyword === 'if' || e.keyword === 'propertyNames' || swallowed(e)) continue;
    const path = pointerToPath(e.instancePath, root);
    const p = e.params as Record<string, unknown>;
    const ifMessage = ifMessages.get(e.instancePath);
    if (e.keyword === 'required') {
      problems.push({ path: [...path, String(p.missingProperty)], message: 'is required' });
    } else if (e.keyword === 'additionalProperties') {
      problems.push({ path: [...path, String(p.additionalProperty)], message: 'unknown key' });
    } else if (ifMessage !== undefined && KIND_KEYWORDS.has(e.keyword)) {
      problems.push({ path, message: ifMessage });
    } else {
      const custom = OWN_MESSAGE_KEYWORDS.has(e.keyword) ? undefined : customMessage(e);
      // ajv tags errors raised on a key by propertyNames with that key.
      const at = e.propertyName === undefined ? path : [...path, e.propertyName];
      problems.push({ path: at, message: custom ?? genericMessage(e) });
    }
  }
  return problems;
}

/**
 * Orders problems as the file reads: by position of each path segment among
 * its siblings in the document (YAML key order survives parsing), missing
 * keys after present ones. The sort is stable, so problems at one path keep
 * the order they were found in (structural before semantic).
 */
export function sortByDocumentOrder(problems: readonly Problem[], root: unknown): Problem[] {
  const rank = (path: readonly PathSegment[]): number[] => {
    const out: number[] = [];
    let node: unknown = root;
    for (const seg of path) {
      if (Array.isArray(node) && typeof seg === 'number') {
        out.push(seg);
        node = node[seg];
      } else if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
        const i = Object.keys(node).indexOf(String(seg));
        out.push(i === -1 ? Number.MAX_SAFE_INTEGER : i);
        node = (node as Record<string, unknown>)[String(seg)];
      } else {
        out.push(Number.MAX_SAFE_INTEGER);
        node = undefined;
      }
    }
    return out;
  };
  const compare = (a: number[], b: number[]) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const d = (a[i] ?? 0) - (b[i] ?? 0);
      if (d !== 0) return d;
    }
    return a.length - b.length;
  };
  const ranked = problems.map((p) => ({ p, r: rank(p.path) }));
  ranked.sort((x, y) => compare(x.r, y.r));
  return ranked.map((x) => x.p);
}
