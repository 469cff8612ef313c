// The CRS part of `npm run waf:eval` (issue 18): the OWASP CRS engine (waf.crs) on
//   - CRS's own regression payloads (crs-dev.jsonl): of the attack tests of request rules
//     (rule_id < 950000) at the paranoia level, how many make their rule fire (CRS's own test
//     criterion: expect_ids matched) and how many are blocked at the anomaly threshold; of the
//     tests that expect a rule NOT to fire, how many it fires on;
//   - our benign corpora: false positives (blocked), beside the built-in rules' figure.
// The rules are loaded from where they live (../shared/crs-4.28 beside the repository, or
// --crs DIR), never from a copy in the repository.
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Stage } from '../src/contract/types.js';
import { compileWafStage } from './waf-stage.js';

export interface CrsLine {
  id: string;
  family: string;
  expect: 'attack' | 'benign';
  method: string;
  uri: string;
  headers: [string, string][];
  body?: string | null;
  rule_id?: number;
  pl?: number;
  expect_ids?: number[];
  no_expect_ids?: number[];
}

export interface CrsOutcome {
  line: CrsLine;
  blocked: boolean;
  normalisation: boolean;
  rules: readonly number[];
  score: number;
}

export interface CrsEvalDeps {
  readCorpus(dir: string): CrsLine[];
  evaluate(stage: Stage, line: CrsLine): Promise<CrsOutcome>;
}

/** The CRS directory: --crs DIR, CRS_RULES_DIR, else ../shared/crs-4.28 beside the repository when present. */
export function crsRulesDir(root: string, explicit: string | null): string | null {
  if (explicit !== null) return resolve(explicit);
  if (process.env['CRS_RULES_DIR']) return resolve(process.env['CRS_RULES_DIR']);
  const beside = resolve(root, '..', 'shared', 'crs-4.28');
  return existsSync(beside) ? beside : null;
}

/** CRS's anomaly-evaluation rules (REQUEST-949): their firing is the block itself. */
const BLOCKING_RULES = new Set([949110, 949111]);

const pct = (n: number, d: number): string => (d === 0 ? '   n/a' : `${((100 * n) / d).toFixed(1).padStart(5)}%`);

export interface CrsSummary {
  rulesDir: string;
  crsDev: { attacks: number; fired: number; blocked: number; benignTests: number; falseAlarms: number; families: Record<string, { total: number; fired: number }> } | null;
  benign: { corpus: string; requests: number; falsePositives: number; untunedFalsePositives: number | null; builtInFalsePositives: number; ids: string[] }[];
}

export async function crsEvaluation(deps: CrsEvalDeps, rulesDir: string, paranoia: number, corpora: readonly string[], exclusions: readonly string[], json: boolean): Promise<CrsSummary> {
  const stage = compileWafStage(paranoia, { rulesDir, exclusions: [...exclusions] });
  const untuned = exclusions.length > 0 ? compileWafStage(paranoia, { rulesDir }) : null;
  const builtIn = compileWafStage(paranoia);
  const summary: CrsSummary = { rulesDir, crsDev: null, benign: [] };
  if (!json) console.log(`\n== OWASP CRS engine (waf.crs.rulesDir ${rulesDir}), paranoia ${paranoia}, threshold 5${exclusions.length ? `, exclusions ${exclusions.map((e) => basename(e)).join(', ')}` : ''}`);
  for (const dir of corpora) {
    const lines = deps.readCorpus(dir);
    const dev = lines.filter((l) => l.rule_id !== undefined);
    if (dev.length > 0) {
      const attacks = dev.filter((l) => l.expect === 'attack' && (l.pl ?? 1) <= paranoia && l.rule_id! < 950000);
      const benignTests = dev.filter((l) => l.expect === 'benign' && (l.pl ?? 1) <= paranoia && l.rule_id! < 950000 && (l.no_expect_ids ?? []).length > 0);
      const families: Record<string, { total: number; fired: number }> = {};
      let fired = 0;
      let blocked = 0;
      const misses: string[] = [];
      for (const l of attacks) {
        const o = await deps.evaluate(stage, l);
        const want = l.expect_ids !== undefined && l.expect_ids.length > 0 ? l.expect_ids : [l.rule_id!];
        // 949110/949111 deny without a severity, so they are not among the logged rule ids
        // (ctx.wafRules): a blocked request is their firing.
        const hit = o.normalisation || want.every((id) => o.rules.includes(id) || (BLOCKING_RULES.has(id) && o.blocked));
        const f = (families[l.family] ??= { total: 0, fired: 0 });
        f.total++;
        if (hit) {
          fired++;
          f.fired++;
        } else misses.push(`${l.id}${o.rules.length ? ` (fired ${o.rules.join(',')})` : ''}`);
        if (o.blocked) blocked++;
      }
      let falseAlarms = 0;
      const alarms: string[] = [];
      for (const l of benignTests) {
        const o = await deps.evaluate(stage, l);
        if ((l.no_expect_ids ?? []).some((id) => o.rules.includes(id))) {
          falseAlarms++;
          alarms.push(l.id);
        }
      }
      summary.crsDev = { attacks: attacks.length, fired, blocked, benignTests: benignTests.length, falseAlarms, families };
      if (!json) {
        console.log(`CRS regression tests (${basename(dir)}/crs-dev.jsonl), request rules, paranoia ≤ ${paranoia}:`);
        console.log('family                 tests  rule fired');
        for (const [name, fam] of Object.entries(families).sort()) console.log(`${name.padEnd(22)} ${String(fam.total).padStart(5)}  ${String(fam.fired).padStart(5)} ${pct(fam.fired, fam.total)}`);
        console.log(`${'overall'.padEnd(22)} ${String(attacks.length).padStart(5)}  ${String(fired).padStart(5)} ${pct(fired, attacks.length)}   (blocked at threshold 5: ${blocked} ${pct(blocked, attacks.length).trim()})`);
        console.log(`tests expecting a rule not to fire: ${benignTests.length}, rule fired anyway: ${falseAlarms}${alarms.length ? ` (${alarms.join(', ')})` : ''}`);
        if (process.env['CRS_EVAL_MISSES']) for (const m of misses) console.log(`  MISS ${m}`);
        else if (misses.length) console.log(`  misses: ${misses.length} (CRS_EVAL_MISSES=1 lists them)`);
      }
    }
    const benign = lines.filter((l) => l.rule_id === undefined && l.expect === 'benign');
    if (benign.length > 0) {
      const ids: string[] = [];
      let untunedFps = 0;
      let builtInFps = 0;
      for (const l of benign) {
        const o = await deps.evaluate(stage, l);
        if (o.blocked) ids.push(`${l.id}:${o.rules.join('+')}`);
        if (untuned !== null && (await deps.evaluate(untuned, l)).blocked) untunedFps++;
        if ((await deps.evaluate(builtIn, l)).blocked) builtInFps++;
      }
      summary.benign.push({ corpus: dir, requests: benign.length, falsePositives: ids.length, untunedFalsePositives: untuned === null ? null : untunedFps, builtInFalsePositives: builtInFps, ids });
      if (!json) {
        console.log(`benign ${dir}: ${benign.length} requests, CRS false positives ${ids.length} (${pct(ids.length, benign.length).trim()})` +
          `${untuned === null ? '' : `, without the exclusions ${untunedFps} (${pct(untunedFps, benign.length).trim()})`}, built-in rules ${builtInFps} (${pct(builtInFps, benign.length).trim()})`);
        if (ids.length) console.log(`  ${ids.join(' ')}`);
      }
    }
  }
  return summary;
}

/** The exclusion files the eval applies (tuning with CRS's own mechanism), from the repository. */
export function defaultCrsExclusions(root: string): string[] {
  const f = join(root, 'config', 'crs', 'rest-api.conf');
  return existsSync(f) ? [f] : [];
}
