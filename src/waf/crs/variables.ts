/**
 * A rule's target list, `REQUEST_COOKIES|!REQUEST_COOKIES:/__utm/|ARGS_NAMES|ARGS|XML:/*|&TX:x`:
 * each item a collection or variable, an optional `:key` (a name, compared case-insensitively, or
 * a /regex/), `!` to exclude, `&` to count. The request variables the engine provides are listed
 * here; a rule that names another (a response variable, a persistent collection) is reported at
 * load and skipped.
 */
import { PcreError, translatePcre } from './pcre.js';

export interface VarSpec {
  /** Upper-cased collection or variable name. */
  readonly collection: string;
  /** Lower-cased key, or null for the whole collection. */
  readonly key: string | null;
  readonly regex: RegExp | null;
  readonly count: boolean;
  readonly exclude: boolean;
}

/** Collections of named values. */
export const COLLECTIONS: ReadonlySet<string> = new Set([
  'ARGS', 'ARGS_NAMES', 'ARGS_GET', 'ARGS_GET_NAMES', 'ARGS_POST', 'ARGS_POST_NAMES', 'REQUEST_HEADERS',
  'REQUEST_HEADERS_NAMES', 'REQUEST_COOKIES', 'REQUEST_COOKIES_NAMES', 'FILES', 'FILES_NAMES', 'FILES_SIZES',
  'MULTIPART_PART_HEADERS', 'XML', 'TX', 'MATCHED_VARS', 'MATCHED_VARS_NAMES', 'ENV',
]);

/** Variables of one value (or none). */
export const SCALARS: ReadonlySet<string> = new Set([
  'REQUEST_URI', 'REQUEST_URI_RAW', 'REQUEST_FILENAME', 'REQUEST_BASENAME', 'REQUEST_LINE', 'REQUEST_METHOD',
  'REQUEST_PROTOCOL', 'QUERY_STRING', 'REQUEST_BODY', 'REQUEST_BODY_LENGTH', 'REQBODY_PROCESSOR', 'REQBODY_ERROR',
  'REQBODY_ERROR_MSG', 'FILES_COMBINED_SIZE', 'ARGS_COMBINED_SIZE', 'REMOTE_ADDR', 'REMOTE_HOST', 'REMOTE_PORT', 'UNIQUE_ID',
  'MATCHED_VAR', 'MATCHED_VAR_NAME', 'SERVER_NAME', 'SERVER_PORT', 'SERVER_ADDR', 'DURATION', 'TIME', 'TIME_EPOCH',
  'MULTIPART_STRICT_ERROR', 'MULTIPART_UNMATCHED_BOUNDARY', 'MULTIPART_BOUNDARY_QUOTED', 'MULTIPART_BOUNDARY_WHITESPACE',
  'MULTIPART_INVALID_HEADER_FOLDING', 'MULTIPART_FILENAME', 'MULTIPART_NAME', 'INBOUND_DATA_ERROR', 'FULL_REQUEST',
  'FULL_REQUEST_LENGTH', 'AUTH_TYPE', 'REQUEST_HEADERS_LENGTH',
]);

/** The parsed list, or a message saying what is wrong. */
export function parseVariables(text: string): VarSpec[] | string {
  const out: VarSpec[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    let exclude = false;
    let count = false;
    if (text[i] === '!') {
      exclude = true;
      i++;
    }
    if (text[i] === '&') {
      count = true;
      i++;
    }
    let name = '';
    while (i < n && /[A-Za-z0-9_]/.test(text[i]!)) name += text[i++];
    if (name === '') return `expected a variable name at offset ${i} of "${text}"`;
    let key: string | null = null;
    let regex: RegExp | null = null;
    if (text[i] === ':' || text[i] === '.') {
      i++;
      let sel = '';
      const quoted = text[i] === "'";
      if (quoted) i++;
      if (text[i] === '/' && name.toUpperCase() !== 'XML') {
        // A regex (XML's keys are XPath expressions, `XML:/*`, read as names) selector runs to its closing unescaped slash.
        i++;
        let body = '';
        while (i < n && text[i] !== '/') {
          if (text[i] === '\\' && i + 1 < n) body += text[i++];
          body += text[i++];
        }
        if (text[i] !== '/') return `unterminated /regex/ selector in "${text}"`;
        i++;
        try {
          const t = translatePcre(body);
          regex = new RegExp(t.source, t.flags.includes('i') ? t.flags : t.flags + 'i');
        } catch (err) {
          return `bad selector regex /${body}/: ${err instanceof PcreError || err instanceof SyntaxError ? err.message : String(err)}`;
        }
        if (quoted && text[i] === "'") i++;
      } else {
        while (i < n && text[i] !== '|' && !(quoted && text[i] === "'")) sel += text[i++];
        if (quoted && text[i] === "'") i++;
        key = sel.toLowerCase();
      }
    }
    out.push({ collection: name.toUpperCase(), key, regex, count, exclude });
    if (i < n) {
      if (text[i] !== '|') return `expected | at offset ${i} of "${text}"`;
      i++;
    }
  }
  return out;
}

/** Is this variable one the engine provides? */
export function isKnownVariable(v: VarSpec): boolean {
  return COLLECTIONS.has(v.collection) || SCALARS.has(v.collection);
}

/** Does exclusion (or ctl removal) `ex` remove entry `key` of `collection`? */
export function excludes(ex: VarSpec, collection: string, key: string, lkey: string = key.toLowerCase()): boolean {
  if (ex.collection !== collection) return false;
  if (ex.regex !== null) return ex.regex.test(key);
  return ex.key === null || ex.key === lkey;
}
