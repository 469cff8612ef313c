/**
 * One request's CRS state: its collections (request.ts fills them), the TX collection, what the
 * current rule matched (MATCHED_VAR, MATCHED_VARS, captures), the runtime exclusions `ctl:`
 * added, and the outcome. Variables resolve to entries; the transformed forms of a value are kept
 * per request by value and chain (ValueForms), so a chain runs once per value however many rules
 * and entries (ARGS:q and ARGS_GET:q, a name equal to a value) use it.
 */
import type { MacroRef } from './macro.js';
import type { CrsRule } from './model.js';
import type { MatchContext } from './operators.js';
import { excludes, type VarSpec } from './variables.js';

export interface Entry {
  /** The key within its collection, as sent (`foo` of ARGS:foo); '' for a scalar. */
  readonly key: string;
  /** `key` lower-cased, once: `REQUEST_HEADERS:User-Agent` selects by it. */
  readonly lkey: string;
  /** `ARGS:foo`, `REQUEST_URI`: MATCHED_VAR_NAME. */
  readonly name: string;
  readonly value: string;
  /** The value's transformed forms in this request (Transaction.formsOf), once asked. */
  forms: ValueForms | null;
  /** 0 unknown, 1 plain (transforms.ts isPlain), 2 not. */
  plain: number;
  /** The prefilter's scan of the raw value, once computed (evaluate.ts). */
  found: Uint32Array | null;
  /** The value's no-match memo (evaluate.ts, a bit per memoisable link), once looked up. */
  memo: Uint32Array | null;
}

/**
 * One value's transformed forms in one request, by chain node (chains.ts), and the prefilter's
 * scan of each form once made: shared by every entry holding the same string.
 */
export interface ValueForms {
  readonly value: string;
  readonly forms: (string | undefined)[];
  readonly found: (Uint32Array | undefined)[];
}

export function entry(collection: string, key: string, value: string): Entry {
  return { key, lkey: key.toLowerCase(), name: key === '' ? collection : `${collection}:${key}`, value, forms: null, plain: 0, found: null, memo: null };
}

/** A ctl:ruleRemoveTarget* the request's rules ran (the Ctl object itself: stable across requests). */
interface TargetRemoval {
  readonly ids: readonly (readonly [number, number])[];
  readonly tag: RegExp | null;
  readonly target: VarSpec | null;
}

/** Does one of `rule`'s tags match `re`? Memoised: tags and ctl tag patterns are fixed at load. */
const tagMemo = new WeakMap<CrsRule, Map<RegExp, boolean>>();
export function hasTag(rule: CrsRule, re: RegExp): boolean {
  let m = tagMemo.get(rule);
  if (m === undefined) tagMemo.set(rule, (m = new Map()));
  let hit = m.get(re);
  if (hit === undefined) {
    hit = rule.tags.some((t) => re.test(t));
    m.set(re, hit);
  }
  return hit;
}

const inRanges = (id: number, ranges: readonly (readonly [number, number])[]): boolean => {
  for (const [lo, hi] of ranges) if (id >= lo && id <= hi) return true;
  return false;
};

/**
 * Collections that are views of others, made when a rule first reads them (most requests never
 * need ARGS_GET_NAMES or FILES_NAMES): ARGS is ARGS_GET then ARGS_POST, a *_NAMES view holds the
 * keys of its collection as values, in the same order.
 */
const DERIVED: ReadonlyMap<string, { readonly from: readonly string[]; readonly names: boolean }> = new Map([
  ['ARGS', { from: ['ARGS_GET', 'ARGS_POST'], names: false }],
  ['ARGS_NAMES', { from: ['ARGS_GET', 'ARGS_POST'], names: true }],
  ['ARGS_GET_NAMES', { from: ['ARGS_GET'], names: true }],
  ['ARGS_POST_NAMES', { from: ['ARGS_POST'], names: true }],
  ['REQUEST_HEADERS_NAMES', { from: ['REQUEST_HEADERS'], names: true }],
  ['REQUEST_COOKIES_NAMES', { from: ['REQUEST_COOKIES'], names: true }],
  ['FILES_NAMES', { from: ['FILES'], names: true }],
]);

export class Transaction implements MatchContext {
  readonly tx = new Map<string, string>();
  /** The collections request.ts fills (values as read); read them through collection(). */
  readonly collections = new Map<string, Entry[]>();
  readonly #derived = new Map<string, Entry[]>();
  readonly scalars = new Map<string, string>();
  matchedVar = '';
  matchedVarName = '';
  matchedVars: Entry[] = [];
  /** The rule being evaluated (the chain starter), for %{rule.*}. */
  rule: CrsRule | null = null;
  removedIds: (readonly [number, number])[] = [];
  removedTags: RegExp[] = [];
  removedTargets: TargetRemoval[] = [];
  /** ctl:ruleEngine: Off stops the rules, DetectionOnly keeps them from blocking. */
  engine: 'on' | 'off' | 'detect' = 'on';
  /** ctl:requestBodyProcessor, read before the body is parsed. */
  bodyProcessor: string | null = null;
  /** ctl:forceRequestBodyVariable=On: REQUEST_BODY holds the body whatever the processor. */
  forceBodyVariable = false;
  /** A deny/drop/redirect fired (in whatever mode). */
  interrupted = false;
  /** `allow`: no more rules. */
  allowed = false;
  /** Starter ids of logging rules that matched, in order. */
  readonly matchedIds: number[] = [];
  /** When set (tools, tests): `id VARIABLE:name` of each logging match, for tuning exclusions. */
  trace: string[] | null = null;

  /** Collection `name`, a view (DERIVED) made on first read; undefined when the request has none. */
  collection(name: string): Entry[] | undefined {
    const base = this.collections.get(name);
    if (base !== undefined) return base;
    const view = DERIVED.get(name);
    if (view === undefined) return undefined;
    let out = this.#derived.get(name);
    if (out === undefined) {
      out = [];
      for (const c of view.from) for (const e of this.collections.get(c) ?? []) out.push(entry(name, e.key, view.names ? e.key : e.value));
      this.#derived.set(name, out);
    }
    return out;
  }

  capture(index: number, value: string): void {
    this.tx.set(String(index), value);
  }

  macroValue(ref: MacroRef): string {
    switch (ref.collection) {
      case 'TX':
        return ref.key === null ? '' : (this.tx.get(ref.key) ?? '');
      case 'MATCHED_VAR':
        return this.matchedVar;
      case 'MATCHED_VAR_NAME':
        return this.matchedVarName;
      case 'RULE': {
        const r = this.rule;
        if (r === null) return '';
        if (ref.key === 'id') return String(r.id);
        if (ref.key === 'msg') return r.msg;
        if (ref.key === 'severity') return String(r.severity ?? '');
        return '';
      }
      default: {
        const scalar = this.scalars.get(ref.collection);
        if (scalar !== undefined) return scalar;
        const col = this.collection(ref.collection);
        if (col === undefined) return '';
        if (ref.key === null) return col[0]?.value ?? '';
        for (const e of col) if (e.lkey === ref.key) return e.value;
        return '';
      }
    }
  }

  isRemoved(rule: CrsRule): boolean {
    if (this.removedIds.length > 0 && inRanges(rule.id, this.removedIds)) return true;
    if (this.removedTags.length > 0) for (const re of this.removedTags) if (hasTag(rule, re)) return true;
    return false;
  }

  /** The entry of scalar variable `name` (cached until it changes), or null when the request has none. */
  scalarEntry(name: string): Entry | null {
    return this.#scalar(name);
  }

  /** The targets the request's ctl removals take from `starter`'s rules. */
  removalsFor(starter: CrsRule): readonly VarSpec[] {
    return this.#removalsFor(starter);
  }

  readonly #valueForms = new Map<string, ValueForms>();

  /** The forms record of `value` in this request, shared by every entry of that value. */
  formsOf(value: string): ValueForms {
    let vf = this.#valueForms.get(value);
    if (vf === undefined) {
      vf = { value, forms: [], found: [] };
      this.#valueForms.set(value, vf);
    }
    return vf;
  }

  /** Resolved target lists shared by rules with the same targets (model.ts targetKey). */
  readonly #shared = new Map<string, Entry[]>();

  /**
   * Per target as a rule lists it (`REQUEST_HEADERS` less its own exclusions, `ARGS:foo`, a
   * scalar): the AND of its values' no-match memos, made by the evaluator when a rule first asks
   * (evaluate.ts #allClean).
   */
  readonly clean = new Map<string, Uint32Array>();

  /** The collections changed (the body arrived): shared resolutions are stale. */
  collectionsChanged(): void {
    this.#derived.clear();
    this.#shared.clear();
    this.#scalarEntries.clear();
    this.clean.clear();
  }



  /**
   * resolve(), shared between rules of the same target list while no ctl removal applies to the
   * rule; `scratch` is used (and returned) otherwise.
   */
  resolveShared(link: CrsRule, starter: CrsRule, scratch: Entry[]): Entry[] {
    let key = link.targetKey;
    if (key === null) {
      this.resolve(link, starter, scratch);
      return scratch;
    }
    if (this.removedTargets.length > 0) {
      // Rules a ctl removal applies to share the list with the rules the same removals apply to.
      const suffix = this.#removals(starter).suffix;
      if (suffix !== '') key += suffix;
    }
    let out = this.#shared.get(key);
    if (out === undefined) {
      out = [];
      this.resolve(link, starter, out);
      this.#shared.set(key, out);
    }
    return out;
  }

  /** The entries rule `link` (of chain starter `starter`) inspects, exclusions applied. */
  resolve(link: CrsRule, starter: CrsRule, out: Entry[]): void {
    out.length = 0;
    // The ctl removals that apply to this rule, decided once per resolution rather than per value.
    const removed = this.#removalsFor(starter);
    for (const spec of link.targets) {
      if (spec.count) {
        out.push(entry('&' + spec.collection, spec.key ?? '', String(this.#count(spec))));
        continue;
      }
      if (spec.collection === 'TX') {
        this.#resolveTx(spec, out);
        continue;
      }
      const scalar = this.#scalar(spec.collection);
      if (scalar !== null) {
        if (!excludedBy(link.excluded, removed, spec.collection, scalar)) out.push(scalar);
        continue;
      }
      const col = spec.collection === 'MATCHED_VARS' ? this.matchedVars : this.collection(spec.collection);
      if (col === undefined) continue;
      for (const e of col) {
        if (spec.key !== null && e.lkey !== spec.key) continue;
        if (spec.regex !== null && !spec.regex.test(e.key)) continue;
        if ((link.excluded.length > 0 || removed.length > 0) && excludedBy(link.excluded, removed, spec.collection, e)) continue;
        out.push(e);
      }
    }
  }

  readonly #scalarEntries = new Map<string, Entry>();

  #scalar(name: string): Entry | null {
    if (name === 'MATCHED_VAR') return entry('MATCHED_VAR', '', this.matchedVar);
    if (name === 'MATCHED_VAR_NAME') return entry('MATCHED_VAR_NAME', '', this.matchedVarName);
    const cached = this.#scalarEntries.get(name);
    if (cached !== undefined) return cached;
    const v = this.scalars.get(name);
    if (v === undefined) return null;
    const e = entry(name, '', v);
    this.#scalarEntries.set(name, e);
    return e;
  }

  /** A scalar changed (the body arrived): its cached entry and forms are stale. */
  setScalar(name: string, value: string): void {
    this.scalars.set(name, value);
    this.#scalarEntries.delete(name);
    this.#shared.clear();
    this.clean.clear();
  }

  #resolveTx(spec: VarSpec, out: Entry[]): void {
    if (spec.key !== null) {
      const v = this.tx.get(spec.key);
      if (v !== undefined) out.push(entry('TX', spec.key, v));
      return;
    }
    for (const [k, v] of this.tx) if (spec.regex === null || spec.regex.test(k)) out.push(entry('TX', k, v));
  }

  #count(spec: VarSpec): number {
    if (spec.collection === 'TX') {
      if (spec.key !== null) return this.tx.has(spec.key) ? 1 : 0;
      let n = 0;
      for (const k of this.tx.keys()) if (spec.regex === null || spec.regex.test(k)) n++;
      return n;
    }
    if (this.scalars.has(spec.collection)) return 1;
    const col = spec.collection === 'MATCHED_VARS' ? this.matchedVars : this.collection(spec.collection);
    if (col === undefined) return 0;
    let n = 0;
    for (const e of col) {
      if (spec.key !== null && e.lkey !== spec.key) continue;
      if (spec.regex !== null && !spec.regex.test(e.key)) continue;
      n++;
    }
    return n;
  }

  #removalsFor(starter: CrsRule): readonly VarSpec[] {
    if (this.removedTargets.length === 0) return NONE;
    return this.#removals(starter).list;
  }

  #removals(starter: CrsRule): { list: readonly VarSpec[]; suffix: string } {
    // Memoised per rule across requests, for the same ctl removals in the same order (requests
    // on one route run the same ctl rules): deciding them costs tag tests and a key string.
    const current = this.removedTargets;
    const memo = removalMemo.get(starter);
    if (memo !== undefined && memo.from.length === current.length && memo.from.every((r, i) => r === current[i])) return memo;
    const list: VarSpec[] = [];
    for (const r of current) {
      if (r.ids.length > 0 && !inRanges(starter.id, r.ids)) continue;
      if (r.tag !== null && !hasTag(starter, r.tag)) continue;
      list.push(r.target!);
    }
    const suffix = list.length === 0 ? '' : '#' + list.map((v) => `${v.collection}:${v.key ?? ''}:${v.regex?.source ?? ''}`).join('|');
    const out = { from: current.slice(), list: list.length === 0 ? NONE : list, suffix };
    removalMemo.set(starter, out);
    return out;
  }
}

const NONE: readonly VarSpec[] = [];
const removalMemo = new WeakMap<CrsRule, { from: readonly TargetRemoval[]; list: readonly VarSpec[]; suffix: string }>();

function excludedBy(own: readonly VarSpec[], removed: readonly VarSpec[], collection: string, e: Entry): boolean {
  for (const ex of own) if (excludes(ex, collection, e.key, e.lkey)) return true;
  for (const ex of removed) if (excludes(ex, collection, e.key, e.lkey)) return true;
  return false;
}
