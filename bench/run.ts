// `npm run bench`: starts the upstream, then each scenario in turn; loads each with the same
// autocannon settings; prints req/s, p50, p99 and RSS with the throughput ratio to the baseline
// measured in this same run, and writes bench/results/latest.json.
//
// Env knobs: BENCH_DURATION (measured seconds per row, default 10), BENCH_CONNECTIONS (default 50),
// BENCH_KEEP_TMP=1 (keep the temp dir with configs and access logs). See bench/README.md.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAllNow, readRssBytes, stopAll } from './children.js';
import { runLoad, stopLoad, type LoadResult, type LoadSettings } from './load.js';
import { scenarios, startUpstream, type Scenario, type Target } from './scenarios.js';

const WARMUP_SEC = 3;
// Per row beyond warm-up + measurement: start (10 s readiness), RSS read, stop (5 s grace), slack.
const ROW_OVERHEAD_SEC = 30;

interface RowOk extends LoadResult {
  name: string;
  ok: true;
  rssBytes: number | null;
  /** requestsPerSec ÷ the baseline's; null for the baseline itself or when it failed. */
  ratio: number | null;
  minRatio: number | null;
  /** ratio ≥ minRatio with no errors and no non-2xx; null when there is no target or no ratio. */
  meetsMinRatio: boolean | null;
}
interface RowFailed {
  name: string;
  ok: false;
  error: string;
}
type Row = RowOk | RowFailed;

function positiveIntEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** The package root (nearest package.json above this script), else the working directory. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---- interruption and the overall time bound -------------------------------------------------

let interrupted = false;

function installSignalHandlers(): void {
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) {
      // second signal: do not wait for a graceful stop
      killAllNow();
      process.exit(130);
    }
    interrupted = true;
    console.error(`\n${sig}: stopping the load and all child processes…`);
    stopLoad();
    // the main flow unwinds through its finally blocks; this is only the backstop
    setTimeout(() => {
      killAllNow();
      process.exit(130);
    }, 10_000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killAllNow);
}

function installWatchdog(settings: LoadSettings, rows: number): void {
  const budgetSec = rows * (settings.warmupSec + settings.durationSec + ROW_OVERHEAD_SEC) + ROW_OVERHEAD_SEC;
  setTimeout(() => {
    console.error(`bench: still running after ${budgetSec} s; killing child processes and giving up`);
    killAllNow();
    process.exit(1);
  }, budgetSec * 1000).unref();
}

// ---- one row ---------------------------------------------------------------------------------

async function runScenario(s: Scenario, upstreamUrl: string, workDir: string, settings: LoadSettings): Promise<Row> {
  let target: Target;
  try {
    target = await s.start({ upstreamUrl, workDir });
  } catch (err) {
    return { name: s.name, ok: false, error: `failed to start: ${errorMessage(err)}` };
  }
  try {
    const load = await runLoad(target.url, s.load, settings, () => interrupted);
    // sampled at the end of the measured run, while the process still holds its working set
    const rssBytes = await readRssBytes(target.pid);
    return { name: s.name, ok: true, ...load, rssBytes, ratio: null, minRatio: s.minRatio ?? null, meetsMinRatio: null };
  } catch (err) {
    return { name: s.name, ok: false, error: `load failed: ${errorMessage(err)}` };
  } finally {
    await target.stop();
  }
}

function addRatios(rows: Row[], baselineName: string | undefined): void {
  const base = rows.find((r): r is RowOk => r.ok && r.name === baselineName);
  if (!base || base.requestsPerSec <= 0) return;
  for (const r of rows) {
    if (!r.ok || r === base) continue;
    r.ratio = r.requestsPerSec / base.requestsPerSec;
    // a row answering errors or non-2xx measured something else than the scenario meant
    if (r.minRatio !== null) r.meetsMinRatio = r.ratio >= r.minRatio && r.errors === 0 && r.non2xx === 0;
  }
}

// ---- output ----------------------------------------------------------------------------------

function printTable(rows: Row[], baselineName: string | undefined): void {
  const fmt = (n: number, digits: number): string => n.toFixed(digits);
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'RSS MB', 'ratio vs baseline', 'non-2xx', 'errors'];
  const cellsOf = (r: RowOk): string[] => {
    const ratio = r.name === baselineName ? '1.00 (baseline)'
      : r.ratio === null ? 'n/a'
        : `${fmt(r.ratio, 2)}${r.minRatio !== null ? ` (target ≥ ${fmt(r.minRatio, 2)}${r.meetsMinRatio ? '' : ', MISSED'})` : ''}`;
    return [
      r.name,
      fmt(r.requestsPerSec, 0),
      fmt(r.latencyMs.p50, 2),
      fmt(r.latencyMs.p99, 2),
      r.rssBytes === null ? 'n/a' : fmt(r.rssBytes / 1024 / 1024, 1),
      ratio,
      String(r.non2xx),
      String(r.errors),
    ];
  };
  const okCells = rows.filter((r): r is RowOk => r.ok).map(cellsOf);
  const widths = header.map((h, i) => Math.max(h.length, ...okCells.map((c) => (c[i] ?? '').length)));
  widths[0] = Math.max(widths[0] ?? 0, ...rows.map((r) => r.name.length));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ');

  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) {
    // a failed row prints its reason across the numeric columns
    console.log(r.ok ? line(cellsOf(r)) : `${r.name.padEnd(widths[0] ?? 0)} | ${r.error}`);
  }

  for (const r of rows) {
    if (!r.ok) continue;
    if (r.errors > 0 || r.non2xx > 0) {
      const kinds = Object.entries(r.errorKinds).map(([k, n]) => `${k}×${n}`).join(', ');
      const codes = Object.entries(r.statusCodes).map(([c, n]) => `${c}×${n}`).join(', ');
      console.log(`! ${r.name}: suspicious — ${r.non2xx} non-2xx, ${r.errors} errors (${r.timeouts} timeouts)` +
        `${kinds ? `; errors: ${kinds}` : ''}; statuses: ${codes || 'none'}`);
    }
    if (r.responses === 0) console.log(`! ${r.name}: no responses at all`);
  }
}

// ---- main ------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const settings: LoadSettings = {
    connections: positiveIntEnv('BENCH_CONNECTIONS', 50),
    pipelining: 1,
    warmupSec: WARMUP_SEC,
    durationSec: positiveIntEnv('BENCH_DURATION', 10),
  };
  const baselines = scenarios.filter((s) => s.baseline);
  if (baselines.length !== 1) throw new Error(`exactly one scenario must be the baseline, found ${baselines.length}`);
  const baselineName = baselines[0]?.name;

  installSignalHandlers();
  installWatchdog(settings, scenarios.length);

  const cpus = os.cpus();
  console.log(`portcullis bench — node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}; ` +
    `${settings.connections} connections, pipelining ${settings.pipelining}, ` +
    `${settings.warmupSec} s warm-up + ${settings.durationSec} s measured per row`);
  if (cpus.length < 4) {
    console.log(`note: only ${cpus.length} CPUs; load generator, proxy and upstream share them, so absolute numbers are low and noisy — compare ratios`);
  }

  const startedAt = new Date();
  const workDir = await mkdtemp(join(os.tmpdir(), 'portcullis-bench-'));
  const rows: Row[] = [];
  try {
    let upstream: Target;
    try {
      upstream = await startUpstream();
    } catch (err) {
      console.error(`bench: could not start the upstream: ${errorMessage(err)}`);
      return 1;
    }
    try {
      for (const s of scenarios) {
        if (interrupted) break;
        console.log(`… ${s.name}`);
        const row = await runScenario(s, upstream.url, workDir, settings);
        if (!row.ok) console.log(`  ${row.error}`);
        rows.push(row);
      }
    } finally {
      await upstream.stop();
    }
  } finally {
    await stopAll();
    if (process.env.BENCH_KEEP_TMP === '1') console.log(`temp dir kept: ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
  }
  if (interrupted) return 130;

  addRatios(rows, baselineName);
  console.log('');
  printTable(rows, baselineName);

  const out = resolve(repoRoot(), 'bench', 'results', 'latest.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, JSON.stringify({
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    env: {
      node: process.version,
      platform: `${process.platform} ${os.release()} ${process.arch}`,
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? null,
      totalMemBytes: os.totalmem(),
      loadavg: os.loadavg(),
    },
    settings: { ...settings, client: 'autocannon', host: '127.0.0.1' },
    baseline: baselineName,
    rows,
  }, null, 2) + '\n');
  console.log(`\nresults: ${out}`);

  return rows.length === scenarios.length && rows.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    killAllNow();
    process.exit(1);
  },
);
