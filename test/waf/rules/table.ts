/** Table-driven rule tests: each attack must trigger the named rule, each negative twin must stay clean. */
import type { Test } from 'tap';
import { ids, score } from '../helpers.js';
import { T_URLENC, T_VALUE } from '../../../src/waf/rule.js';

export interface Case {
  /** The value, as a query argument value after the query parser's decoding (unless bits says otherwise). */
  readonly v: string;
  readonly rule: number;
  readonly bits?: number;
}

export function positives(t: Test, cases: readonly Case[]): void {
  for (const c of cases) t.ok(ids(c.v, c.bits ?? T_VALUE | T_URLENC).includes(c.rule), `${c.rule} matches ${JSON.stringify(c.v).slice(0, 90)}`);
}

/** Benign look-alikes: below the blocking threshold (5) at paranoia 1. */
export function negatives(t: Test, values: readonly string[], bits = T_VALUE | T_URLENC): void {
  for (const v of values) t.ok(score(v, bits) < 5, `clean: ${JSON.stringify(v).slice(0, 90)} (rules ${ids(v, bits).join(',') || '-'})`);
}
