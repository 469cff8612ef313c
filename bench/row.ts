// What a benchmark row is: the contract between run.ts (which loads and measures every row the
// same way) and the row files (scenarios.ts, *-rows.ts), which say what to start and what to
// send. Types only, so every row file can import it without importing the others.
import type { LoadSpec } from './load.js';

/** What every scenario gets from the runner. */
export interface BenchEnv {
  /** Origin of the shared upstream, e.g. http://127.0.0.1:40123 */
  upstreamUrl: string;
  /** Per-run temp directory for configs and logs. */
  workDir: string;
}

/** A started process under test. */
export interface Target {
  /** Base URL the load is sent to (127.0.0.1 only). */
  url: string;
  /** Process whose RSS and CPU time are reported, together with its descendants (cluster workers). */
  pid: number;
  stop(): Promise<void>;
  /** Caveats printed under the table, e.g. a part of the row this build does not have yet. */
  notes?: string[];
}

export interface Scenario {
  name: string;
  /** The row every other row's ratio is computed against (exactly one). */
  baseline?: boolean;
  /** Ratio vs the baseline this row is expected to keep, by throughput and by CPU per request (reported, not enforced). */
  minRatio?: number;
  /** Responses per second of CPU time (1e6 ÷ CPU µs/req: per core-equivalent) this row should reach. */
  minPerCoreSec?: number;
  /** p99 this row may add to the baseline's, in ms (reported, not enforced). */
  maxP99OverBaselineMs?: number;
  /** Throughput this row should keep relative to another row (the fastify reference). */
  minRatioOver?: { row: string; min: number };
  /** Ceiling on RSS, in MiB (reported, not enforced). */
  maxRssMB?: number;
  /** Warm-up of this row in seconds, when the default is too short (a cache to fill first). */
  warmupSec?: number;
  load: LoadSpec;
  start(env: BenchEnv): Promise<Target>;
}
