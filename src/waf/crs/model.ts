/**
 * The compiled CRS rule model: what parse.ts makes of SecRule/SecAction/SecMarker and what
 * evaluate.ts runs. Everything a rule needs at request time is resolved here once: targets,
 * transformation functions, the operator, the actions split by kind.
 */
import type { Macro } from './macro.js';
import type { Operator } from './operators.js';
import type { TransformFn } from './transforms.js';
import type { VarSpec } from './variables.js';

export type Disruptive = 'deny' | 'drop' | 'block' | 'allow' | 'pass' | 'redirect' | null;

export interface SetVar {
  /** `!tx.x`: delete. */
  readonly op: '=' | '+' | '-' | 'delete';
  readonly collection: string;
  readonly name: Macro;
  readonly value: Macro;
}

export interface Ctl {
  /** Lower-cased ctl name: ruleremovebyid, ruleremovetargetbyid, ruleengine, … */
  readonly name: string;
  readonly value: Macro;
  /** For ruleRemoveTargetBy*: the target removed. */
  readonly target: VarSpec | null;
  /** For ruleRemoveById: the id ranges; for *ByTag: the tag regex. */
  readonly ids: readonly (readonly [number, number])[];
  readonly tag: RegExp | null;
}

export interface CrsRule {
  /** 0 for a chain link (it has the starter's id in `chainOf`). */
  readonly id: number;
  readonly file: string;
  readonly line: number;
  readonly phase: number;
  readonly targets: readonly VarSpec[];
  /** Targets the rule's own list excludes (`!ARGS:foo`), plus SecRuleUpdateTargetById additions. */
  readonly excluded: VarSpec[];
  readonly negated: boolean;
  readonly operator: Operator;
  /** The operator as written, for reports. */
  readonly operatorName: string;
  readonly transforms: readonly TransformFn[];
  /** Transformation names joined, the per-value cache key of the chain. */
  readonly transformKey: string;
  readonly transformNames: readonly string[];
  readonly multiMatch: boolean;
  readonly capture: boolean;
  readonly disruptive: Disruptive;
  readonly setvars: readonly SetVar[];
  readonly ctls: readonly Ctl[];
  readonly skipAfter: string | null;
  readonly skip: number;
  readonly log: boolean;
  readonly severity: number | null;
  readonly tags: readonly string[];
  readonly msg: string;
  /** Next link of the chain, or null. */
  chain: CrsRule | null;
  /** SecAction / SecMarker-free rule without variables (SecAction): always matches once. */
  readonly action: boolean;
  /** Required-literal groups of the pattern in the shared prefilter (evaluate.ts); null: none. */
  prefilter: Int32Array | null;
  /**
   * Set by the evaluator: the targets as a cache key (identical target lists, which most CRS
   * rules share, resolve once per request), or null when they depend on the rule's own state
   * (TX, MATCHED_VARS, counts).
   */
  targetKey: string | null;
  /** Set by the evaluator: every transformation is identity on a plain value (transforms.ts PLAIN_SAFE). */
  plainSafe: boolean;
  /** Set by the evaluator: this link's slot in the no-match memo (evaluate.ts), or -1. */
  memoIndex: number;
  /** Set by the evaluator: the node of the transformation chain (chains.ts), -1 for none. */
  chainNode: number;
}

export interface Marker {
  readonly marker: string;
}

export type PhaseItem = CrsRule | Marker;

export const isMarker = (x: PhaseItem): x is Marker => (x as Marker).marker !== undefined;

/** What the loader could not run, reported once at load. */
export interface Skipped {
  readonly id: number;
  readonly file: string;
  readonly line: number;
  readonly reason: string;
}
