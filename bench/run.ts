// `npm run bench`: starts the upstream, then each scenario in turn; loads each with the same
// autocannon settings; prints req/s, p50, p99 and RSS with the throughput ratio to the baseline
// measured in this same run, and writes bench/results/latest.json.
//
// Env knobs: BENCH_DURATION (measured seconds per row, default 10), BENCH_CONNECTIONS (default 50),
// BENCH_REPEAT (rounds over all rows, medians reported; default 1), BENCH_ROWS (regex selecting
// rows; the baseline always runs), BENCH_RATE (fixed offered req/s, for latency at equal load), BENCH_KEEP_TMP=1 (keep the temp dir with configs and access
// logs). See bench/README.md.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAllNow, readRssBytes, stopAll } from './children.js';
import { processTree, readCpuSeconds, readIoSyscalls, readPeakRssBytesOf, readRssBytesOf } from './proc.js';
import { runLoad, stopLoad, type LoadResult, type LoadSettings } from './load.js';
import type { Scenario, Target } from './row.js';
import { scenarios } from './scenarios.js';
import { startUpstream } from './start.js';
import { median } from './median.js';

const WARMUP_SEC = 3;
// Per row beyond warm-up + measurement: start (BENCH_READY_SEC readiness, 10 by default), RSS read, stop (5 s grace), slack.
const ROW_OVERHEAD_SEC = 20 + Math.max(10, Number(process.env['BENCH_READY_SEC'] ?? 10) || 10);

interface RowOk extends LoadResult {
  name: string;
  ok: true;
  /** RSS at the end of the measured run (the RSS MB column). */
  rssBytes: number | null;
  /** Peak RSS over the process's life (VmHWM, summed over a cluster's processes); what maxRssMB is judged on. */
  rssPeakBytes: number | null;
  /** requestsPerSec ÷ the baseline's; null for the baseline itself or when it failed. */
  ratio: number | null;
  minRatio: number | null;
  /** ratio ≥ minRatio with no errors and no non-2xx; null when there is no target or no ratio. */
  meetsMinRatio: boolean | null;
  /** cpuRatio ≥ minRatio (the same target judged on CPU per request); null without a target or a CPU figure. */
  meetsMinCpuRatio: boolean | null;
  /** Responses per second of CPU (1e6 ÷ cpuUsPerRequest) and its target, when the row has one. */
  perCore: { perSec: number | null; min: number; meets: boolean | null } | null;
  /**
   * CPU time (user + system) of the process under test and its descendants during the measured
   * run, divided by the responses it served, in µs. Steadier than req/s on a machine where the
   * load generator and the upstream compete for the same cores.
   */
  cpuUsPerRequest: number | null;
  /** read/write-family syscalls of the process(es) under test per response (/proc/<pid>/io), load-independent. */
  syscallsPerRequest: number | null;
  /** The baseline's cpuUsPerRequest ÷ this row's: the throughput ratio if the proxy had a core of its own. */
  cpuRatio: number | null;
  /** Allowed p99 over the baseline's, in ms (issue 8 §3); null when the row has no such target. */
  maxP99OverBaselineMs: number | null;
  meetsP99: boolean | null;
  /** Throughput relative to another row (the fastify reference), with its target. */
  ratioOver: { row: string; min: number; ratio: number | null; meets: boolean | null } | null;
  maxRssMB: number | null;
  meetsRss: boolean | null;
  /** Measured runs this row aggregates (BENCH_REPEAT): medians of req/s, latency and CPU, the largest RSS. */
  runs: number;
  /** Per-run req/s, p99 and CPU per request, in run order, so the spread is visible in the JSON. */
  samples: { requestsPerSec: number; p99Ms: number; cpuUsPerRequest: number | null; rssBytes: number | null; rssPeakBytes: number | null }[];
  /** What the row could not include on this build, and similar caveats (printed under the table). */
  notes: string[];
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
    let pids: number[] = [target.pid];
    let cpuBefore: number | null = null;
    let ioBefore: number | null = null;
    const rowSettings = s.warmupSec === undefined ? settings : { ...settings, warmupSec: s.warmupSec };
    const load = await runLoad(target.url, s.load, rowSettings, () => interrupted, async () => {
      // after the warm-up: a cluster row's workers exist by now, and start-up CPU is not counted
      pids = await processTree(target.pid);
      cpuBefore = await readCpuSeconds(pids);
      ioBefore = await readIoSyscalls(pids);
    });
    const cpuAfter = await readCpuSeconds(pids);
    const ioAfter = await readIoSyscalls(pids);
    // sampled at the end of the measured run, while the process still holds its working set
    const rssBytes = pids.length > 1 ? await readRssBytesOf(pids) : await readRssBytes(target.pid);
    const rssPeakBytes = await readPeakRssBytesOf(pids);
    const cpuUsPerRequest = cpuBefore !== null && cpuAfter !== null && load.responses > 0
      ? ((cpuAfter - cpuBefore) * 1e6) / load.responses
      : null;
    const syscallsPerRequest = ioBefore !== null && ioAfter !== null && load.responses > 0 ? (ioAfter - ioBefore) / load.responses : null;
    return {
      name: s.name, ok: true, ...load, rssBytes, rssPeakBytes, ratio: null, minRatio: s.minRatio ?? null, meetsMinRatio: null, meetsMinCpuRatio: null,
      perCore: s.minPerCoreSec === undefined ? null : { perSec: null, min: s.minPerCoreSec, meets: null },
      cpuUsPerRequest, syscallsPerRequest, cpuRatio: null, maxP99OverBaselineMs: s.maxP99OverBaselineMs ?? null, meetsP99: null,
      ratioOver: s.minRatioOver ? { ...s.minRatioOver, ratio: null, meets: null } : null,
      maxRssMB: s.maxRssMB ?? null, meetsRss: null,
      runs: 1, samples: [{ requestsPerSec: load.requestsPerSec, p99Ms: load.latencyMs.p99, cpuUsPerRequest, rssBytes, rssPeakBytes }],
      notes: target.notes ?? [],
    };
  } catch (err) {
    return { name: s.name, ok: false, error: `load failed: ${errorMessage(err)}` };
  } finally {
    await target.stop();
  }
}

/**
 * One row from the runs of a scenario (BENCH_REPEAT): the median of req/s, of each latency
 * percentile and of CPU per request, the largest RSS (the targets on memory are ceilings), the
 * sums of responses, errors and statuses. A run that failed fails the row.
 */
function aggregate(runs: readonly Row[]): Row {
  const failed = runs.find((r): r is RowFailed => !r.ok);
  if (failed !== undefined || runs.length === 0) return failed ?? { name: '?', ok: false, error: 'no runs' };
  const ok = runs as readonly RowOk[];
  if (ok.length === 1) return ok[0]!;
  const first = ok[0]!;
  const cpu = ok.map((r) => r.cpuUsPerRequest).filter((v): v is number => v !== null);
  const sys = ok.map((r) => r.syscallsPerRequest).filter((v): v is number => v !== null);
  const rss = ok.map((r) => r.rssBytes).filter((v): v is number => v !== null);
  const peaks = ok.map((r) => r.rssPeakBytes).filter((v): v is number => v !== null);
  const statusCodes: Record<string, number> = {};
  const errorKinds: Record<string, number> = {};
  for (const r of ok) {
    for (const [k, n] of Object.entries(r.statusCodes)) statusCodes[k] = (statusCodes[k] ?? 0) + n;
    for (const [k, n] of Object.entries(r.errorKinds)) errorKinds[k] = (errorKinds[k] ?? 0) + n;
  }
  const sum = (pick: (r: RowOk) => number): number => ok.reduce((acc, r) => acc + pick(r), 0);
  return {
    ...first,
    requestsPerSec: median(ok.map((r) => r.requestsPerSec)),
    responses: sum((r) => r.responses),
    latencyMs: {
      p50: median(ok.map((r) => r.latencyMs.p50)),
      p99: median(ok.map((r) => r.latencyMs.p99)),
      mean: median(ok.map((r) => r.latencyMs.mean)),
      max: Math.max(...ok.map((r) => r.latencyMs.max)),
    },
    non2xx: sum((r) => r.non2xx),
    statusCodes,
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    errorKinds,
    durationSec: sum((r) => r.durationSec),
    rssBytes: rss.length ? Math.max(...rss) : null,
    rssPeakBytes: peaks.length ? Math.max(...peaks) : null,
    cpuUsPerRequest: cpu.length ? median(cpu) : null,
    syscallsPerRequest: sys.length ? median(sys) : null,
    runs: ok.length,
    samples: ok.flatMap((r) => r.samples),
    notes: [...new Set(ok.flatMap((r) => r.notes))],
  };
}

function addRatios(rows: Row[], baselineName: string | undefined): void {
  for (const r of rows) {
    if (!r.ok) continue;
    const rss = r.rssPeakBytes ?? r.rssBytes;
    if (r.perCore !== null && r.cpuUsPerRequest !== null && r.cpuUsPerRequest > 0) {
      r.perCore.perSec = 1e6 / r.cpuUsPerRequest;
      r.perCore.meets = r.perCore.perSec >= r.perCore.min && r.errors === 0 && r.non2xx === 0;
    }
    if (r.maxRssMB !== null && rss !== null) r.meetsRss = rss <= r.maxRssMB * 1024 * 1024;
    const over = r.ratioOver;
    const ref = over === null ? undefined : rows.find((o): o is RowOk => o.ok && o.name === over.row);
    if (over !== null && ref !== undefined && ref.requestsPerSec > 0) {
      over.ratio = r.requestsPerSec / ref.requestsPerSec;
      over.meets = over.ratio >= over.min && r.errors === 0 && r.non2xx === 0 && ref.errors === 0 && ref.non2xx === 0;
    }
  }
  const base = rows.find((r): r is RowOk => r.ok && r.name === baselineName);
  if (!base || base.requestsPerSec <= 0) return;
  for (const r of rows) {
    if (!r.ok || r === base) continue;
    r.ratio = r.requestsPerSec / base.requestsPerSec;
    if (base.cpuUsPerRequest !== null && r.cpuUsPerRequest !== null && r.cpuUsPerRequest > 0) {
      r.cpuRatio = base.cpuUsPerRequest / r.cpuUsPerRequest;
    }
    // a row answering errors or non-2xx measured something else than the scenario meant
    const clean = r.errors === 0 && r.non2xx === 0;
    if (r.minRatio !== null) r.meetsMinRatio = r.ratio >= r.minRatio && clean;
    if (r.minRatio !== null && r.cpuRatio !== null) r.meetsMinCpuRatio = r.cpuRatio >= r.minRatio && clean;
    if (r.maxP99OverBaselineMs !== null) r.meetsP99 = r.latencyMs.p99 <= base.latencyMs.p99 + r.maxP99OverBaselineMs && clean;
  }
}

// ---- output ----------------------------------------------------------------------------------

function printTable(rows: Row[], baselineName: string | undefined): void {
  const fmt = (n: number, digits: number): string => n.toFixed(digits);
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'RSS MB', 'ratio vs baseline', 'CPU µs/req', 'CPU ratio', 'syscalls/req', 'non-2xx', 'errors'];
  const cellsOf = (r: RowOk): string[] => {
    const ratio = r.name === baselineName ? '1.00 (baseline)'
      : r.ratio === null ? 'n/a'
        : `${fmt(r.ratio, 2)}${r.minRatio !== null ? ` (target ≥ ${fmt(r.minRatio, 2)}${r.meetsMinRatio ? '' : ', MISSED'})` : ''}`;
    const p99 = `${fmt(r.latencyMs.p99, 2)}${r.meetsP99 === false ? ' MISSED' : ''}`;
    return [
      r.name,
      fmt(r.requestsPerSec, 0),
      fmt(r.latencyMs.p50, 2),
      p99,
      r.rssBytes === null ? 'n/a' : fmt(r.rssBytes / 1024 / 1024, 1),
      ratio,
      r.cpuUsPerRequest === null ? 'n/a' : fmt(r.cpuUsPerRequest, 1),
      r.name === baselineName ? '1.00' : r.cpuRatio === null ? 'n/a' : `${fmt(r.cpuRatio, 2)}${r.meetsMinCpuRatio === false ? ' MISSED' : ''}`,
      r.syscallsPerRequest === null ? 'n/a' : fmt(r.syscallsPerRequest, 2),
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

  const base = rows.find((r): r is RowOk => r.ok && r.name === baselineName);
  for (const r of rows) {
    if (!r.ok) continue;
    if (r.errors > 0 || r.non2xx > 0) {
      const kinds = Object.entries(r.errorKinds).map(([k, n]) => `${k}×${n}`).join(', ');
      const codes = Object.entries(r.statusCodes).map(([c, n]) => `${c}×${n}`).join(', ');
      console.log(`! ${r.name}: suspicious — ${r.non2xx} non-2xx, ${r.errors} errors (${r.timeouts} timeouts)` +
        `${kinds ? `; errors: ${kinds}` : ''}; statuses: ${codes || 'none'}`);
    }
    if (r.responses === 0) console.log(`! ${r.name}: no responses at all`);
    // issue 17: p99 and peak RSS stated against the baseline's in this same run, at the same offered load
    if (r.maxP99OverBaselineMs !== null && base !== undefined) {
      const d = r.latencyMs.p99 - base.latencyMs.p99;
      console.log(`${r.meetsP99 === false ? '! ' : ''}${r.name}: p99 ${fmt(r.latencyMs.p99, 2)} ms vs baseline ${fmt(base.latencyMs.p99, 2)} ms: ` +
        `${d >= 0 ? '+' : ''}${fmt(d, 2)} ms (target ≤ +${r.maxP99OverBaselineMs}${r.meetsP99 === false ? ', MISSED' : ''})`);
    }
    if (r.maxRssMB !== null && r.meetsRss !== null) {
      const peakBytes = r.rssPeakBytes ?? r.rssBytes ?? 0;
      const basePeak = base === undefined ? null : base.rssPeakBytes ?? base.rssBytes;
      const vsBase = basePeak ? `, ${fmt(peakBytes / basePeak, 2)}× the baseline's ${fmt(basePeak / 1024 / 1024, 1)} MB` : '';
      console.log(`${r.meetsRss ? '' : '! '}${r.name}: peak RSS ${fmt(peakBytes / 1024 / 1024, 1)} MB${vsBase} (target ≤ ${r.maxRssMB}${r.meetsRss ? '' : ', MISSED'})`);
    }
    const over = r.ratioOver;
    if (over !== null) {
      console.log(over.ratio === null
        ? `! ${r.name}: no ratio to "${over.row}" (that row did not run)`
        : `${over.meets ? '' : '! '}${r.name}: ${fmt(over.ratio, 2)}× the throughput of "${over.row}" (target ≥ ${fmt(over.min, 2)}${over.meets ? '' : ', MISSED'})`);
    }
    const pc = r.perCore;
    if (pc !== null && pc.perSec !== null) {
      console.log(`${pc.meets ? '' : '! '}${r.name}: ${fmt(pc.perSec, 0)} responses per CPU-second (target ≥ ${pc.min}${pc.meets ? '' : ', MISSED'})`);
    }
    for (const note of r.notes) console.log(`note — ${r.name}: ${note}`);
  }
}

// ---- main ------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const settings: LoadSettings = {
    connections: positiveIntEnv('BENCH_CONNECTIONS', 50),
    pipelining: 1,
    warmupSec: WARMUP_SEC,
    durationSec: positiveIntEnv('BENCH_DURATION', 10),
    rate: process.env['BENCH_RATE'] ? positiveIntEnv('BENCH_RATE', 1) : null,
  };
  const repeat = positiveIntEnv('BENCH_REPEAT', 1);
  const baselines = scenarios.filter((s) => s.baseline);
  if (baselines.length !== 1) throw new Error(`exactly one scenario must be the baseline, found ${baselines.length}`);
  const baselineName = baselines[0]?.name;
  // BENCH_ROWS=<regex> runs the matching rows (and always the baseline, which every ratio needs)
  const filter = process.env['BENCH_ROWS'] ? new RegExp(process.env['BENCH_ROWS'], 'i') : null;
  const selected = scenarios.filter((s) => s.baseline || filter === null || filter.test(s.name));

  installSignalHandlers();
  // the longest warm-up any row asks for bounds every row's share of the watchdog's budget
  installWatchdog({ ...settings, warmupSec: Math.max(settings.warmupSec, ...selected.map((s) => s.warmupSec ?? 0)) }, selected.length * repeat);

  const cpus = os.cpus();
  console.log(`portcullis bench — node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}; ` +
    `${settings.connections} connections, pipelining ${settings.pipelining}, ` +
    `${settings.rate ? `${settings.rate} req/s offered (BENCH_RATE), ` : ''}` +
    `${settings.warmupSec} s warm-up + ${settings.durationSec} s measured per row` +
    `${repeat > 1 ? `, ${repeat} rounds (medians)` : ''}`);
  if (cpus.length < 4) {
    console.log(`note: only ${cpus.length} CPUs; load generator, proxy and upstream share them, so absolute numbers are low and noisy — compare ratios`);
  }

  const startedAt = new Date();
  const workDir = await mkdtemp(join(os.tmpdir(), 'portcullis-bench-'));
  const runs = new Map<Scenario, Row[]>(selected.map((s) => [s, []]));
  try {
    let upstream: Target;
    try {
      upstream = await startUpstream();
    } catch (err) {
      console.error(`bench: could not start the upstream: ${errorMessage(err)}`);
      return 1;
    }
    try {
      // Rounds rather than N runs of a row in a row: drift of the machine (thermal, a noisy
      // neighbour) then spreads over every row instead of landing on one.
      for (let round = 1; round <= repeat && !interrupted; round++) {
        for (const s of selected) {
          if (interrupted) break;
          console.log(`… ${s.name}${repeat > 1 ? ` (round ${round}/${repeat})` : ''}`);
          const row = await runScenario(s, upstream.url, workDir, settings);
          if (!row.ok) console.log(`  ${row.error}`);
          runs.get(s)!.push(row);
        }
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

  const rows = selected.map((s) => aggregate(runs.get(s) ?? []));
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
    settings: { ...settings, repeat, rows: filter === null ? null : filter.source, client: 'autocannon', host: '127.0.0.1' },
    baseline: baselineName,
    rows,
  }, null, 2) + '\n');
  console.log(`\nresults: ${out}`);

  return rows.length === selected.length && rows.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    killAllNow();
    process.exit(1);
  },
);
