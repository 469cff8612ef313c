// CRS engine cost (issue 18 §2): CPU time per request of the WAF stage with waf.crs (CRS 4 at
// paranoia 1) on the two requests of the `npm run bench` WAF rows (bench/waf-rows.ts), measured
// with process.cpuUsage() over many iterations, in interleaved rounds, reported as medians — the
// machine is shared, and CPU time is what the target is about (≤ 10 % added CPU per request over
// the WAF-off row).
//
//   npm run build && node dist/bench/crs-cost.js [--rounds 9] [--iterations 2000] [--fresh] [--build <dist> …]
//
// Each `--build` is another compiled tree (a `dist/` of an older commit, e.g. from
// `git archive <commit> | tar -x -C /tmp/before && (cd /tmp/before && npm ci && npm run build)`):
// its CRS stage is timed in the same rounds as this one's, so before/after share the machine's load.
// The built-in rules' stage is timed beside them for scale.
//
// `--fresh`: each call's query values `q`, `from` and the POST's prose fields and item names carry
// a call counter (5,000 variants, more than the engine's 4,096-value memo holds), so the values no
// memo has seen pay transformations, prefilter and regexes, as new traffic does; headers repeat.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Stage } from '../src/contract/types.js';
import { caller } from './crs-calls.js';
import { GET_QUERY, POST_JSON } from './waf-rows.js';
import { compileWafStage } from './waf-stage.js';
import { crsRulesDir } from './waf-eval-crs.js';
import { median } from './median.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}
const ROUNDS = Number(option('--rounds', '9'));
const ITERATIONS = Number(option('--iterations', '2000'));
const FRESH = process.argv.includes('--fresh');
const builds = process.argv.flatMap((a, i) => (a === '--build' && process.argv[i + 1] !== undefined ? [resolve(process.argv[i + 1]!)] : []));

const cpuMicros = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** CPU µs per call over ITERATIONS calls (awaited: the POST reads its body asynchronously). */
async function cpuPerCall(fn: () => unknown): Promise<number> {
  const start = cpuMicros();
  for (let i = 0; i < ITERATIONS; i++) {
    const r = fn();
    if (r instanceof Promise) await r;
  }
  return (cpuMicros() - start) / ITERATIONS;
}

interface Subject {
  readonly name: string;
  readonly get: () => unknown;
  readonly post: () => unknown;
  readonly samples: { get: number[]; post: number[] };
}

async function subjectsOf(label: string, compile: typeof compileWafStage, rulesDir: string, withBuiltIn: boolean): Promise<Subject[]> {
  const out: Subject[] = [];
  const add = (name: string, stage: Stage): void => {
    out.push({ name, get: caller(stage, GET_QUERY, FRESH), post: caller(stage, POST_JSON, FRESH), samples: { get: [], post: [] } });
  };
  if (withBuiltIn) add(`built-in rules (${label})`, compile(1));
  add(`CRS engine (${label})`, compile(1, { rulesDir }));
  return out;
}

async function main(): Promise<void> {
  const rulesDir = crsRulesDir(process.cwd(), option('--crs', '') || null);
  if (rulesDir === null) throw new Error('no CRS rules: put CRS 4 at ../shared/crs-4.28 or set CRS_RULES_DIR');
  const subjects: Subject[] = [];
  for (const b of builds) {
    const mod = (await import(pathToFileURL(resolve(b, 'bench', 'waf-stage.js')).href)) as { compileWafStage: typeof compileWafStage };
    subjects.push(...(await subjectsOf(b, mod.compileWafStage, rulesDir, false)));
  }
  subjects.push(...(await subjectsOf('this build', compileWafStage, rulesDir, true)));
  for (const s of subjects) {
    for (let i = 0; i < 3; i++) {
      await cpuPerCall(s.get); // warm-up: JIT, memo and caches filled
      await cpuPerCall(s.post);
    }
  }
  for (let r = 0; r < ROUNDS; r++) {
    // Rotated order: no subject always runs first (or last) in a round.
    for (let k = 0; k < subjects.length; k++) {
      const s = subjects[(k + r) % subjects.length]!;
      s.samples.get.push(await cpuPerCall(s.get));
      s.samples.post.push(await cpuPerCall(s.post));
    }
  }
  console.log(`CRS cost, paranoia 1${FRESH ? ', fresh values' : ''}, ${ROUNDS} rounds × ${ITERATIONS} calls, CPU µs per request (median; min–max of rounds)`);
  console.log(`${'stage'.padEnd(48)} ${'GET'.padStart(22)} ${'2 KB JSON POST'.padStart(22)}`);
  const cell = (xs: number[]): string => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`.padStart(22);
  for (const s of subjects) console.log(`${s.name.slice(-48).padEnd(48)} ${cell(s.samples.get)} ${cell(s.samples.post)}`);
  // Load changes between rounds; the ratio within a round much less: the median of per-round ratios.
  const first = subjects[0]!;
  const last = subjects[subjects.length - 1]!;
  if (builds.length > 0) {
    const ratio = (a: number[], b: number[]): string => median(a.map((x, i) => x / b[i]!)).toFixed(2).padStart(22);
    console.log(`${'this build / first --build (median of rounds)'.padEnd(48)} ${ratio(last.samples.get, first.samples.get)} ${ratio(last.samples.post, first.samples.post)}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
