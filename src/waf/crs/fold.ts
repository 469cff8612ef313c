/**
 * Folding the request-independent rules (issue 18 §2, cost): CRS starts every request with ~30
 * rules (901xxx) that only test and set TX values fixed by the configuration
 * (`&TX:blocking_paranoia_level @eq 0` → `setvar:tx.blocking_paranoia_level=1`), and every rule
 * file opens with `TX:DETECTION_PARANOIA_LEVEL @lt N` → `skipAfter:END-…`. Their outcome is the
 * same on every request, so they are evaluated once, at load, on the initial TX: what they write
 * becomes a per-phase TX delta applied when the phase starts, and the rules a static skip always
 * jumps over are left out of the per-request list.
 *
 * A rule folds when (1) every target is TX or the chain's own MATCHED_VAR(S), (2) it has no ctl,
 * (3) every macro it expands names TX, RULE or MATCHED_VAR*, (4) the TX keys it reads are not
 * written by a rule that still runs per request before it, (5) the keys it writes are neither read
 * nor written by such a rule (folding moves its writes to the start of the phase), and (6) if it
 * matches, it neither interrupts, allows, logs nor changes the rule engine. The walk stops at the
 * first per-request rule whose effect on the flow or on TX it cannot bound (a skip, a disruptive
 * action, a ctl other than the body processor's, a setvar whose name is computed from the
 * request): everything after it runs as written.
 */
import type { MacroRef } from './macro.js';
import { isMarker, type CrsRule, type Ctl, type Marker, type PhaseItem } from './model.js';
import { hasTag, Transaction } from './transaction.js';

/** Targets a folded rule may read: TX, and what its own chain matched. */
const FOLDABLE_TARGETS = new Set(['TX', 'MATCHED_VAR', 'MATCHED_VARS', 'MATCHED_VAR_NAME', 'MATCHED_VARS_NAMES']);
/** Macro collections whose value a folded rule may use. */
const FOLDABLE_MACROS = new Set(['TX', 'RULE', 'MATCHED_VAR', 'MATCHED_VAR_NAME']);
/** ctl actions of a per-request rule that change neither TX nor the rule flow. */
const FLOW_NEUTRAL_CTLS = new Set(['forcerequestbodyvariable', 'requestbodyprocessor', 'auditengine', 'auditlogparts']);
/** ctl actions that remove rules or targets at request time: the rules they name do not fold. */
const REMOVAL_CTLS = new Set(['ruleremovebyid', 'ruleremovebytag', 'ruleremovetargetbyid', 'ruleremovetargetbytag']);

/** A TX change a phase's folded rules make: a value, or null for a deletion. */
export type TxDelta = readonly (readonly [string, string | null])[];

export interface FoldResult {
  /** Per phase: the items that still run per request. */
  readonly phases: readonly [readonly PhaseItem[], readonly PhaseItem[]];
  /** Per phase: the folded rules' TX writes, applied when the phase starts. */
  readonly deltas: readonly [TxDelta, TxDelta];
  /** Rules folded or left out behind a static skip. */
  readonly folded: number;
}

/** Evaluates a chain on a transaction, as the evaluator does: true when it matched. */
export type ChainFn = (t: Transaction, starter: CrsRule) => boolean;

const isCaptureKey = (k: string): boolean => /^\d+$/.test(k);

/** What the per-request rules kept so far read and write of TX. */
class Footprint {
  readonly reads = new Set<string>();
  readonly writes = new Set<string>();
  /** `TX:/^header_name_/`: keys read by a pattern. */
  readonly readPatterns: RegExp[] = [];
  /** `setvar:tx.header_name_%{tx.0}`: keys written, known by their start. */
  readonly writePrefixes: string[] = [];
  /** A kept rule captures: TX:0 … TX:99 are the request's. */
  captures = false;

  touched(key: string): boolean {
    return this.reads.has(key) || this.readPatterns.some((re) => re.test(key)) || this.written(key);
  }

  written(key: string): boolean {
    return this.writes.has(key) || this.writePrefixes.some((p) => key.startsWith(p)) || (this.captures && isCaptureKey(key));
  }
}

/** TX that remembers which keys were set or deleted: a write of the value already there is a write. */
class WriteLog extends Map<string, string> {
  readonly written = new Set<string>();
  override set(k: string, v: string): this {
    this.written?.add(k); // undefined while Map's constructor runs
    return super.set(k, v);
  }
  override delete(k: string): boolean {
    this.written.add(k);
    return super.delete(k);
  }
}

/** A transaction that records the macros an operator or setvar expands, and the TX keys written. */
class Recorder extends Transaction {
  override readonly tx = new WriteLog();
  readonly refs: MacroRef[] = [];
  override macroValue(ref: MacroRef): string {
    this.refs.push(ref);
    return super.macroValue(ref);
  }
}

function links(starter: CrsRule): CrsRule[] {
  const out: CrsRule[] = [];
  for (let l: CrsRule | null = starter; l !== null; l = l.chain) out.push(l);
  return out;
}

/** Adds the TX keys the targets read (into `keys`, or `patterns` for TX:/regex/); false when they read all of TX. */
function targetReads(rule: CrsRule, keys: Set<string>, patterns: RegExp[]): boolean {
  for (const l of links(rule)) {
    for (const v of l.targets) {
      if (v.collection !== 'TX') continue;
      if (v.regex !== null) patterns.push(v.regex);
      else if (v.key === null) return false;
      else keys.add(v.key);
    }
  }
  return true;
}

/**
 * Adds the TX keys a per-request rule's macros read (setvars, ctls, and an operator's argument,
 * found by a dry run: an operator with a macro expands it on every match); false when unbounded.
 */
function macroReads(rule: CrsRule, into: Set<string>, tx: Transaction): boolean {
  const rec = new Recorder();
  for (const [k, v] of tx.tx) rec.tx.set(k, v);
  rec.rule = rule;
  for (const l of links(rule)) {
    for (const sv of l.setvars) for (const p of [...sv.name, ...sv.value]) if (typeof p !== 'string') rec.refs.push(p);
    for (const c of l.ctls) for (const p of c.value) if (typeof p !== 'string') rec.refs.push(p);
    if (!l.operator.constant) {
      try {
        l.operator.match('', rec, false);
      } catch {
        return false;
      }
    }
  }
  for (const r of rec.refs) {
    if (r.collection !== 'TX') continue;
    if (r.key === null) return false;
    into.add(r.key);
  }
  return true;
}

/**
 * Did the load-time evaluation of a foldable-shaped rule give the answer every request would?
 * Every macro it expanded names TX (keys no per-request rule writes first), RULE or its own
 * match; what it wrote no per-request rule has read or written; and a match neither logs,
 * interrupts nor allows.
 */
function foldable(rule: CrsRule, matched: boolean, writes: readonly string[], sim: Recorder, kept: Footprint): boolean {
  for (const r of sim.refs) {
    if (!FOLDABLE_MACROS.has(r.collection)) return false;
    if (r.collection === 'TX' && (r.key === null || kept.written(r.key))) return false;
  }
  if (writes.some((k) => kept.touched(k))) return false;
  if (!matched) return true;
  const d = rule.disruptive;
  return !(rule.log && rule.severity !== null) && d !== 'deny' && d !== 'drop' && d !== 'redirect' && d !== 'allow';
}

/** The index of the item a skipAfter lands on (its marker, or the rule of that id); the length when absent. */
function skipEnd(items: readonly PhaseItem[], from: number, target: string): number {
  let to = from + 1;
  while (to < items.length) {
    const x = items[to]!;
    if (isMarker(x) ? x.marker === target : String(x.id) === target) break;
    to++;
  }
  return to;
}

/** Could this rule fold, judged on its text alone (targets, ctl)? */
function foldableShape(rule: CrsRule): boolean {
  for (const l of links(rule)) {
    if (l.ctls.length > 0) return false;
    for (const v of l.targets) if (!FOLDABLE_TARGETS.has(v.collection)) return false;
  }
  return true;
}

/**
 * Keys a per-request rule writes: names, and starts of names computed at request time
 * (`tx.header_name_%{tx.0}` → `header_name_`); null when a name could be anything.
 */
function keptWrites(rule: CrsRule): { names: string[]; prefixes: string[] } | null {
  const names: string[] = [];
  const prefixes: string[] = [];
  for (const l of links(rule)) {
    for (const sv of l.setvars) {
      if (sv.collection !== 'TX') continue;
      let name = '';
      let open = false;
      for (const p of sv.name) {
        if (typeof p === 'string') name += p;
        else if (p.collection === 'RULE' && p.key === 'id') name += String(rule.id);
        else {
          open = true;
          break;
        }
      }
      if (open && name === '') return null;
      (open ? prefixes : names).push(name.toLowerCase());
    }
  }
  return { names, prefixes };
}

/** Does a per-request rule end the walk (its effect on the flow cannot be bounded)? */
function endsWalk(rule: CrsRule): boolean {
  if (rule.skip > 0) return true;
  for (const l of links(rule)) for (const c of l.ctls) if (!FLOW_NEUTRAL_CTLS.has(c.name) && !REMOVAL_CTLS.has(c.name)) return true;
  return false;
}

/** Could ctl removal `c` of a per-request rule apply to `rule` (remove it, or a target it reads)? */
function applies(c: Ctl, rule: CrsRule): boolean {
  if (c.target !== null && !FOLDABLE_TARGETS.has(c.target.collection)) return false; // removes a target the rule does not read
  if (c.tag !== null && hasTag(rule, c.tag)) return true;
  for (const [lo, hi] of c.ids) if (rule.id >= lo && rule.id <= hi) return true;
  return false;
}

function skipTargets(phases: readonly (readonly PhaseItem[])[]): Set<string> {
  const out = new Set<string>();
  for (const items of phases) for (const it of items) if (!isMarker(it) && it.skipAfter !== null) out.add(it.skipAfter);
  return out;
}

export function foldStatic(phases: readonly [readonly PhaseItem[], readonly PhaseItem[]], initialTx: readonly (readonly [string, string])[], chain: ChainFn): FoldResult {
  const sim = new Recorder();
  for (const [k, v] of initialTx) sim.tx.set(k, v);
  const kept = new Footprint();
  const targets = skipTargets(phases);
  let stopped = false;
  let folded = 0;
  const removals: Ctl[] = [];
  const outPhases: PhaseItem[][] = [[], []];
  const deltas: [string, string | null][][] = [[], []];

  for (let p = 0; p < 2; p++) {
    const items = phases[p]!;
    const out = outPhases[p]!;
    const delta = new Map<string, string | null>();
    // Past a per-request skip (until its marker) or deny/allow (to the end of the phase), a rule
    // may not run: only rules that do nothing (no match, no write) fold there.
    const pending = new Set<string>();
    let restOfPhase = false;
    // A rule left out is still a skipAfter target by id: keep its place as a marker.
    const leaveOut = (rule: CrsRule): void => {
      folded++;
      if (targets.has(String(rule.id))) out.push({ marker: String(rule.id) } satisfies Marker);
    };
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (isMarker(it) || stopped) {
        out.push(it);
        if (isMarker(it)) pending.delete(it.marker);
        continue;
      }
      const conditional = restOfPhase || pending.size > 0;
      pending.delete(String(it.id)); // a skip to a rule id continues after it
      const reads = new Set<string>();
      const patterns: RegExp[] = [];
      const allKeys = !targetReads(it, reads, patterns);
      if (foldableShape(it) && !allKeys && patterns.length === 0 && ![...reads].some((k) => kept.written(k))) {
        const before = new Map(sim.tx);
        sim.rule = it;
        sim.refs.length = 0;
        sim.tx.written.clear();
        const matched = chain(sim, it);
        const writes = [...sim.tx.written];
        const to = matched && it.skipAfter !== null ? skipEnd(items, i, it.skipAfter) : i;
        if (foldable(it, matched, writes, sim, kept) && sim.engine === 'on') {
          // Where the rule may not run (past a per-request skip, deny or allow; or a ctl may
          // remove it), only what does nothing folds — or a skip over rules removed with it.
          const removers = removals.filter((c) => applies(c, it));
          const inert = writes.length === 0 && (!matched || (it.skipAfter === null && it.skip === 0));
          const removedTogether = writes.length === 0 && matched && removers.every((c) => c.target === null) && it.skipAfter !== null && items.slice(i + 1, to).every((x) => isMarker(x) || removers.every((c) => applies(c, x)));
          if ((!conditional || inert) && (removers.length === 0 || inert || removedTogether)) {
            for (const k of writes) delta.set(k, sim.tx.get(k) ?? null);
            leaveOut(it);
            if (to > i) {
              // Always taken: the rules up to the marker never run.
              for (let j = i + 1; j < to; j++) {
                const x = items[j]!;
                if (isMarker(x)) out.push(x);
                else leaveOut(x);
              }
              if (to < items.length) out.push(items[to]!);
              i = to;
            } else if (matched && it.skip > 0) {
              let n = it.skip;
              while (n > 0 && i + 1 < items.length) {
                const x = items[++i]!;
                if (isMarker(x)) out.push(x);
                else {
                  leaveOut(x);
                  n--;
                }
              }
            }
            continue;
          }
        }
        // Not foldable after all: undo what it did to the simulation.
        sim.tx.clear();
        for (const [k, v] of before) sim.tx.set(k, v);
        sim.engine = 'on';
      }
      const macros = macroReads(it, reads, sim);
      // Runs per request: remember its footprint, or stop folding when it is unbounded.
      out.push(it);
      const writes = keptWrites(it);
      if (endsWalk(it) || writes === null || allKeys || !macros) {
        stopped = true;
        continue;
      }
      for (const k of reads) kept.reads.add(k);
      kept.readPatterns.push(...patterns);
      for (const k of writes.names) kept.writes.add(k);
      kept.writePrefixes.push(...writes.prefixes);
      if (links(it).some((l) => l.capture)) kept.captures = true;
      for (const l of links(it)) for (const c of l.ctls) if (REMOVAL_CTLS.has(c.name)) removals.push(c);
      if (it.skipAfter !== null) pending.add(it.skipAfter);
      const d = it.disruptive;
      if (d === 'deny' || d === 'drop' || d === 'redirect' || d === 'allow') restOfPhase = true;
    }
    deltas[p] = [...delta];
  }
  return { phases: [outPhases[0]!, outPhases[1]!], deltas: [deltas[0]!, deltas[1]!], folded };
}
