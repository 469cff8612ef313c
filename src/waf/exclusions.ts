/**
 * Rule exclusions (PRODUCT §3 `waf.exclusions`): `{ route?, rules: [ids], target? }` switches
 * the listed rules off for one route (or all), on one part of the request (or all of it).
 *
 * Target syntax (docs/waf.md):
 *   path              the normalised path (whole and per segment)
 *   args              every argument: query string and body (form fields, multipart fields and
 *                     file names, JSON keys and strings, raw text bodies)
 *   args:<name>       the argument called <name> (case-sensitive): a query or form field name,
 *                     a multipart field name, or a JSON key path with dots and without array
 *                     indices (`{"a":[{"b":"x"}]}` → `a.b`); name and value both
 *   body              everything read from the body
 *   headers           every header value; headers:<name> one header (case-insensitive)
 *   cookies           every cookie name and value; cookies:<name> one cookie (case-sensitive)
 */

/** Where a value came from: the part of the request an exclusion target names. */
export const S_PATH = 1;
export const S_QUERY = 2;
export const S_BODY = 4;
export const S_HEADER = 8;
export const S_COOKIE = 16;
export type Source = typeof S_PATH | typeof S_QUERY | typeof S_BODY | typeof S_HEADER | typeof S_COOKIE;

export interface TargetSpec {
  /** S_* bits the target covers. */
  readonly sources: number;
  /** Only values with this name (headers lower-cased); null: any name. */
  readonly name: string | null;
}

const ALL_SOURCES = S_PATH | S_QUERY | S_BODY | S_HEADER | S_COOKIE;
const KINDS: Readonly<Record<string, number>> = {
  path: S_PATH, args: S_QUERY | S_BODY, body: S_BODY, headers: S_HEADER, cookies: S_COOKIE,
};
const NAMED = new Set(['args', 'headers', 'cookies']);

/** Parses a target; null when it is not valid syntax (config-check.ts reports it). */
export function parseTarget(target: string | undefined): TargetSpec | null {
  if (target === undefined) return { sources: ALL_SOURCES, name: null };
  const colon = target.indexOf(':');
  const kind = colon < 0 ? target : target.slice(0, colon);
  const sources = KINDS[kind];
  if (sources === undefined) return null;
  if (colon < 0) return { sources, name: null };
  const name = target.slice(colon + 1);
  if (!NAMED.has(kind) || name === '') return null;
  return { sources, name: kind === 'headers' ? name.toLowerCase() : name };
}

interface Entry {
  readonly rules: ReadonlySet<number>;
  readonly target: TargetSpec;
}

/** The exclusions that apply to one route, checked only when a rule has matched. */
export class Exclusions {
  readonly #entries: readonly Entry[];

  constructor(entries: readonly { rules: readonly number[]; target?: string }[]) {
    const out: Entry[] = [];
    for (const e of entries) {
      const target = parseTarget(e.target);
      // config-check.ts has refused bad syntax; reaching this is a bug.
      if (target === null) throw new Error(`invalid WAF exclusion target ${String(e.target)}`);
      out.push({ rules: new Set(e.rules), target });
    }
    this.#entries = out;
  }

  get empty(): boolean {
    return this.#entries.length === 0;
  }

  excludes(ruleId: number, source: Source, name: string): boolean {
    for (const e of this.#entries) {
      if (!e.rules.has(ruleId) || (e.target.sources & source) === 0) continue;
      if (e.target.name === null || e.target.name === name) return true;
    }
    return false;
  }
}

export const NO_EXCLUSIONS = new Exclusions([]);
