/**
 * The CRS evaluator: ModSecurity's rule loop for phases 1 and 2. Rules run in load order; a
 * chain matches when every link matches (each link on the entries its own targets resolve to,
 * MATCHED_VARS passed on); a link's non-disruptive actions (setvar, ctl, capture) run for each
 * value it matches, as ModSecurity runs them; flow actions (skipAfter, skip) and disruptive
 * actions belong to the starter and run when the whole chain matched. `deny` interrupts: in
 * block mode the evaluation stops there.
 *
 * The prefilter: every @rx pattern's required literals (required-literals.ts), and the phrases
 * of @pm/@pmFromFile and the argument of @contains/@streq/@beginsWith/@endsWith (operators.ts
 * `literals`), go into one automaton (literal-set.ts). Each transformed form of a value is
 * scanned once per request for all of them (ValueForms.found); a rule whose literal sets are not
 * all present skips its operator — on ordinary traffic, most.
 */
import { LiteralGroups } from '../literal-set.js';
import { ChainTable } from './chains.js';
import { requiredLiterals } from '../required-literals.js';
import { foldStatic, type TxDelta } from './fold.js';
import { expand } from './macro.js';
import { isMarker, type CrsRule, type PhaseItem } from './model.js';
import type { Entry, Transaction } from './transaction.js';
import { isPlain, PLAIN_SAFE } from './transforms.js';
import { excludes, type VarSpec } from './variables.js';

/** Targets that depend on what the rules did, not on the request alone: resolved every time. */
const DYNAMIC = new Set(['TX', 'MATCHED_VARS', 'MATCHED_VAR', 'MATCHED_VAR_NAME', 'MATCHED_VARS_NAMES']);

function specKey(v: VarSpec): string {
  return `${v.exclude ? '!' : ''}${v.collection}:${v.key ?? ''}:${v.regex?.source ?? ''}`;
}

/** The cache key of a link's resolved targets, or null when they cannot be shared. */
function targetKeyOf(link: CrsRule): string | null {
  if (link.targets.some((v) => v.count || DYNAMIC.has(v.collection))) return null;
  return [...link.targets, ...link.excluded].map(specKey).join('|');
}

/**
 * The prefilter's scans are cached by the string scanned, across requests (the answer depends on
 * the string alone): headers, cookies and API values repeat. Bounded in entries and characters;
 * cleared when full.
 */
const MAX_FOUND_CACHE = 4096;
const MAX_FOUND_CHARS = 1024 * 1024;

const NO_ENTRIES: Entry[] = [];
const NO_SPECS: readonly VarSpec[] = [];

/**
 * Values whose rule outcomes are remembered across requests: per value, one byte per memoisable
 * link, 1 when the link is known not to match it. A link's answer on a value depends on the value
 * alone when its operator has no macro (a capture happens only on a match), so a header, cookie or argument
 * sent again skips its transformations, the prefilter and the regexes of every rule it already
 * passed. Bounded in values and characters; cleared when full. Matches are not remembered: they
 * are rare and set MATCHED_VAR, captures and scores.
 */
const MAX_MEMO_VALUES = 4096;
const MAX_MEMO_CHARS = 1024 * 1024;
const MAX_MEMO_VALUE_CHARS = 4096;

/**
 * One target of a memoisable link, for the clean-set check (#allClean): its key in
 * Transaction.clean — the target with the link's own exclusions of that collection — and them.
 */
interface CleanTarget {
  /** The target alone: shared by every link that names it. */
  readonly base: string;
  /** With the link's exclusions, when it has some (else null). */
  readonly key: string | null;
  readonly spec: VarSpec;
  readonly excluded: readonly VarSpec[];
}

/** The link's targets as clean-set checks, or null when one is not a set of request values (a count, TX, MATCHED_VARS). */
function cleanTargetsOf(link: CrsRule): CleanTarget[] | null {
  const out: CleanTarget[] = [];
  for (const v of link.targets) {
    if (v.count || DYNAMIC.has(v.collection)) return null;
    const excluded = link.excluded.filter((x) => x.collection === v.collection);
    out.push({ base: specKey(v), key: excluded.length === 0 ? null : [specKey(v), ...excluded.map(specKey)].join('|'), spec: v, excluded });
  }
  return out;
}

function plain(e: Entry): boolean {
  if (e.plain === 0) e.plain = isPlain(e.value) ? 1 : 2;
  return e.plain === 1;
}

export class Evaluator {
  readonly #phases: readonly (readonly PhaseItem[])[];
  /** Per phase: marker name or rule id → the item index to continue after. */
  readonly #jumps: readonly Map<string, number>[];
  /** Per phase: the TX writes of the rules folded at load (fold.ts), applied when the phase starts. */
  readonly #deltas: readonly TxDelta[];
  readonly #literals: LiteralGroups | null;
  readonly #chains = new ChainTable();
  readonly #words: number;
  /** Scratch (a phase runs synchronously; one Evaluator per engine). */
  #found = new Map<string, Uint32Array>();
  #foundChars = 0;
  #memo = new Map<string, Uint32Array>();
  #memoChars = 0;
  /** 32-bit words of a value's memo: a bit per memoisable link. */
  readonly #memoWords: number;
  /** Per memo slot: the link's targets as clean-set checks (cleanTargetsOf). */
  readonly #cleanTargets: (readonly CleanTarget[] | null)[] = [];
  readonly #entries: Entry[][] = [];
  /** For bench/ tools: milliseconds spent per rule id, when set. */
  profile: Map<number, number> | null = null;
  /** For tests and the report: rules whose regex the prefilter can skip. */
  readonly prefiltered: number;
  /** For tests and the report: rules evaluated once at load instead of per request (fold.ts). */
  readonly folded: number;

  /**
   * `initialTx`: the TX every request starts with (the callers seed it, LoadedCrs.initialTx);
   * with `fold`, the rules whose outcome depends on it alone are evaluated once, here.
   */
  constructor(all: readonly [readonly PhaseItem[], readonly PhaseItem[]], prefilter = true, initialTx: readonly (readonly [string, string])[] = [], fold = true) {
    const groups: string[][] = [];
    let prefiltered = 0;
    // Links of every rule get their keys, folded or not: folding evaluates them too.
    for (const items of all) {
      for (const it of items) {
        for (let link: CrsRule | null = isMarker(it) ? null : it; link !== null; link = link.chain) {
          link.targetKey = targetKeyOf(link);
          link.plainSafe = link.transformNames.every((n) => PLAIN_SAFE.has(n));
          link.chainNode = this.#chains.add(link);
        }
      }
    }
    if (prefilter) {
      for (const items of all) {
        for (const it of items) {
          for (let link: CrsRule | null = isMarker(it) ? null : it; link !== null; link = link.chain) {
            if (link.negated || link.multiMatch || link.prefilter !== null) continue;
            // An @rx's required literals, or another operator's own (an @pm's phrases, a
            // @contains argument): one clause, of which a matching value holds a literal.
            const re = link.operator.regex;
            const own = link.operator.literals;
            const clauses = re !== null ? requiredLiterals(re) : own !== null ? [own] : [];
            if (clauses.length === 0) continue;
            link.prefilter = Int32Array.from(clauses.map((c) => groups.push([...c]) - 1));
            prefiltered++;
          }
        }
      }
    }
    this.#literals = groups.length > 0 ? new LiteralGroups(groups) : null;
    this.#words = this.#literals?.words ?? 0;
    this.prefiltered = prefiltered;
    const f = fold ? foldStatic(all, initialTx, (t, r) => this.#chain(t, r)) : null;
    const phases = f?.phases ?? all;
    this.#deltas = f?.deltas ?? [[], []];
    this.folded = f?.folded ?? 0;
    this.#phases = phases;
    // Memo slots only for the links that still run per request (fewer words per value).
    let slots = 0;
    for (const items of phases) {
      for (const it of items) {
        for (let link: CrsRule | null = isMarker(it) ? null : it; link !== null; link = link.chain) {
          if (!link.operator.constant || link.action) continue;
          link.memoIndex = slots++;
          this.#cleanTargets.push(cleanTargetsOf(link));
        }
      }
    }
    this.#memoWords = (slots + 31) >>> 5;
    this.#jumps = phases.map((items) => {
      const m = new Map<string, number>();
      items.forEach((it, i) => {
        if (isMarker(it)) m.set(it.marker, i);
        else m.set(String(it.id), i);
      });
      return m;
    });
  }

  /** Runs phase 1 or 2 on `t`; `stopOnDeny` is block mode. */
  run(t: Transaction, phase: 1 | 2, stopOnDeny: boolean): void {
    if (t.engine === 'off' || t.allowed) return;
    for (const [k, v] of this.#deltas[phase - 1]!) {
      if (v === null) t.tx.delete(k);
      else t.tx.set(k, v);
    }
    const items = this.#phases[phase - 1]!;
    const jumps = this.#jumps[phase - 1]!;
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (isMarker(it)) continue;
      if (t.isRemoved(it)) continue;
      t.rule = it;
      const profile = this.profile;
      const t0 = profile === null ? 0 : performance.now();
      const matched = this.#chain(t, it);
      if (profile !== null) profile.set(it.id, (profile.get(it.id) ?? 0) + performance.now() - t0);
      if (!matched) continue;
      if (it.log && it.severity !== null) {
        t.matchedIds.push(it.id);
        if (t.trace !== null) t.trace.push(`${it.id} ${t.matchedVarName}=${JSON.stringify(t.matchedVar.slice(0, 80))}`);
      }
      const d = it.disruptive;
      if (d === 'deny' || d === 'drop' || d === 'redirect') {
        t.interrupted = true;
        if (stopOnDeny && t.engine === 'on') return;
      } else if (d === 'allow') {
        t.allowed = true;
        return;
      }
      if ((t.engine as string) === 'off') return; // a ctl:ruleEngine=Off of this rule
      if (it.skipAfter !== null) {
        const to = jumps.get(it.skipAfter);
        if (to !== undefined && to > i) i = to;
        else i = items.length; // an unknown marker skips the rest of the phase, as ModSecurity does
      } else if (it.skip > 0) {
        let n = it.skip;
        while (n > 0 && i + 1 < items.length) {
          i++;
          if (!isMarker(items[i]!)) n--;
        }
      }
    }
  }

  #chain(t: Transaction, starter: CrsRule): boolean {
    t.matchedVars = NO_ENTRIES;
    let depth = 0;
    for (let link: CrsRule | null = starter; link !== null; link = link.chain, depth++) {
      if (!this.#link(t, link, starter, depth)) return false;
    }
    return true;
  }

  /** Evaluates one link; true when at least one value matched. */
  #link(t: Transaction, link: CrsRule, starter: CrsRule, depth: number): boolean {
    if (link.action) {
      this.#actions(t, link);
      return true;
    }
    // Every value the link would inspect is known not to match it: no need to list them.
    const slot = link.memoIndex;
    if (slot >= 0) {
      const targets = this.#cleanTargets[slot]!;
      if (targets !== null && this.#allClean(t, targets, starter, slot)) return false;
    }
    const entries = t.resolveShared(link, starter, (this.#entries[depth] ??= []));
    let matched = false;
    // Allocated on the first match only: most rules match nothing.
    let matches: Entry[] | null = null;
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k]!;
      const hit = this.#matchEntry(t, link, e);
      if (hit !== null) {
        matched = true;
        // MATCHED_VAR(S) hold the value as the operator saw it, transformed (ModSecurity does
        // the same): a chained `SecRule MATCHED_VARS "@rx processbuilder"` relies on t:lowercase.
        (matches ??= []).push(hit === e.value ? e : { key: e.key, name: e.name, value: hit, lkey: e.lkey, forms: null, plain: 0, found: null, memo: null });
        t.matchedVar = hit;
        t.matchedVarName = e.name;
        this.#actions(t, link);
      }
    }
    if (matches !== null) t.matchedVars = matches;
    return matched;
  }

  /** The value (transformed) on which the link's operator matched, or null. */
  #matchEntry(t: Transaction, link: CrsRule, e: Entry): string | null {
    const slot = link.memoIndex;
    if (slot < 0) return this.#evaluateEntry(t, link, e);
    const memo = (e.memo ??= this.#memoFor(e.value));
    const bit = 1 << (slot & 31);
    if ((memo[slot >>> 5]! & bit) !== 0) return null;
    const hit = this.#evaluateEntry(t, link, e);
    if (hit === null) memo[slot >>> 5]! |= bit;
    return hit;
  }

  /**
   * Is `slot`'s bit set in the clean set of every target — the AND of the memos of the values it
   * names? A target the request's ctl removals take whole from the rule is passed over; one they
   * take part of is not decided here (the caller resolves and looks at each value).
   */
  #allClean(t: Transaction, targets: readonly CleanTarget[], starter: CrsRule, slot: number): boolean {
    const word = slot >>> 5;
    const bit = 1 << (slot & 31);
    const removed = t.removedTargets.length === 0 ? null : t.removalsFor(starter);
    for (let i = 0; i < targets.length; i++) {
      const ct = targets[i]!;
      if (removed !== null && removed.length > 0) {
        const r = removed.find((x) => x.collection === ct.spec.collection);
        if (r !== undefined) {
          if (r.key === null && r.regex === null) continue;
          return false;
        }
      }
      // The target whole first: its set is shared, and excluded values rarely lack the bit.
      const whole = t.clean.get(ct.base) ?? this.#cleanSet(t, ct, false);
      if ((whole[word]! & bit) !== 0) continue;
      if (ct.key === null) return false;
      const set = t.clean.get(ct.key) ?? this.#cleanSet(t, ct, true);
      if ((set[word]! & bit) === 0) return false;
    }
    return true;
  }

  /**
   * The AND of the memos of the values behind a target, once per request (per body): memos only
   * gain bits as rules run, so a set made earlier in the request errs on the side of evaluating.
   */
  #cleanSet(t: Transaction, ct: CleanTarget, exclusions: boolean): Uint32Array {
    const set = new Uint32Array(this.#memoWords).fill(0xffffffff);
    const spec = ct.spec;
    const excluded = exclusions ? ct.excluded : NO_SPECS;
    const scalar = t.scalarEntry(spec.collection);
    const entries = scalar !== null ? [scalar] : (t.collection(spec.collection) ?? NO_ENTRIES);
    for (const e of entries) {
      if (spec.key !== null && e.lkey !== spec.key) continue;
      if (spec.regex !== null && !spec.regex.test(e.key)) continue;
      if (excluded.length > 0 && excluded.some((x) => excludes(x, spec.collection, e.key, e.lkey))) continue;
      const memo = (e.memo ??= this.#memoFor(e.value));
      for (let w = 0; w < set.length; w++) set[w]! &= memo[w]!;
    }
    t.clean.set(exclusions ? ct.key! : ct.base, set);
    return set;
  }

  #memoFor(value: string): Uint32Array {
    if (value.length > MAX_MEMO_VALUE_CHARS) return new Uint32Array(this.#memoWords);
    let memo = this.#memo.get(value);
    if (memo === undefined) {
      if (this.#memo.size >= MAX_MEMO_VALUES || this.#memoChars + value.length > MAX_MEMO_CHARS) {
        this.#memo.clear();
        this.#memoChars = 0;
      }
      memo = new Uint32Array(this.#memoWords);
      this.#memoChars += value.length;
      this.#memo.set(value.length > 64 ? ('.' + value).slice(1) : value, memo);
    }
    return memo;
  }

  #evaluateEntry(t: Transaction, link: CrsRule, e: Entry): string | null {
    const op = link.operator;
    if (link.multiMatch) {
      let v = e.value;
      if (op.match(v, t, link.capture) !== link.negated) return v;
      for (const fn of link.transforms) {
        const next = fn(v);
        if (next !== v && op.match(next, t, link.capture) !== link.negated) return next;
        v = next;
      }
      return null;
    }
    // A plain value is what every plain-safe chain makes of it (case aside, which the prefilter
    // ignores): its literals are read on the raw value, and the chain is not computed at all.
    if (link.prefilter !== null && link.plainSafe && plain(e) && !this.#has(link.prefilter, (e.found ??= this.#scan(e.value)))) return null;
    const node = link.chainNode;
    if (node < 0) {
      const v = e.value;
      if (link.prefilter !== null && !this.#has(link.prefilter, (e.found ??= this.#scan(v)))) return null;
      return op.match(v, t, link.capture) !== link.negated ? v : null;
    }
    // The form is computed once per value and chain in this request, and scanned once.
    const vf = (e.forms ??= t.formsOf(e.value));
    const v = this.#chains.form(vf, node);
    if (link.prefilter !== null && !this.#has(link.prefilter, (vf.found[node] ??= this.#scan(v)))) return null;
    return op.match(v, t, link.capture) !== link.negated ? v : null;
  }

  #has(groups: Int32Array, found: Uint32Array): boolean {
    for (let g = 0; g < groups.length; g++) {
      const idx = groups[g]!;
      if ((found[idx >>> 5]! & (1 << (idx & 31))) === 0) return false;
    }
    return true;
  }

  /** Which literal groups occur in `v` (cached, see MAX_FOUND_CACHE). */
  #scan(v: string): Uint32Array {
    let found = this.#found.get(v);
    if (found === undefined) {
      found = new Uint32Array(this.#words);
      this.#literals!.scan(v, found);
      if (this.#found.size >= MAX_FOUND_CACHE || this.#foundChars + v.length > MAX_FOUND_CHARS) {
        this.#found.clear();
        this.#foundChars = 0;
      }
      this.#foundChars += v.length;
      // A copy: a slice of a body would keep the whole body alive while cached.
      this.#found.set(v.length > 64 ? ('.' + v).slice(1) : v, found);
    }
    return found;
  }


  #actions(t: Transaction, link: CrsRule): void {
    for (const sv of link.setvars) {
      if (sv.collection !== 'TX') continue; // IP/SESSION/GLOBAL are persistent collections: not modelled
      const name = expand(sv.name, t).toLowerCase();
      if (sv.op === 'delete') {
        t.tx.delete(name);
        continue;
      }
      const value = expand(sv.value, t);
      if (sv.op === '=') t.tx.set(name, value);
      else {
        const cur = parseInt(t.tx.get(name) ?? '0', 10) || 0;
        const delta = parseInt(value, 10) || 0;
        t.tx.set(name, String(sv.op === '+' ? cur + delta : cur - delta));
      }
    }
    for (const c of link.ctls) {
      switch (c.name) {
        case 'ruleremovebyid':
          t.removedIds.push(...c.ids);
          break;
        case 'ruleremovebytag':
          t.removedTags.push(c.tag!);
          break;
        case 'ruleremovetargetbyid':
        case 'ruleremovetargetbytag':
          t.removedTargets.push(c); // the Ctl itself: the same object on every request (transaction.ts memo)
          break;
        case 'ruleengine': {
          const v = expand(c.value, t).toLowerCase();
          t.engine = v === 'off' ? 'off' : v === 'detectiononly' ? 'detect' : 'on';
          break;
        }
        case 'forcerequestbodyvariable':
          t.forceBodyVariable = expand(c.value, t).toLowerCase() === 'on';
          break;
        case 'requestbodyprocessor':
          t.bodyProcessor = expand(c.value, t).toUpperCase();
          t.setScalar('REQBODY_PROCESSOR', t.bodyProcessor);
          break;
        default:
          break; // auditEngine, auditLogParts, …: nothing to do here
      }
    }
  }
}
