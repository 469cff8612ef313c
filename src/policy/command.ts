/**
 * `portcullis policy [--config FILE] [--format table|json|markdown]` and
 * `portcullis policy --diff OLD NEW [--format …]` (docs/policy.md).
 *
 * Each config is loaded, validated and compiled exactly as `portcullis check` does (config/,
 * compile/), so a file the gateway would refuse is refused here too, with the same message.
 *
 * Exit codes: 0 printed (for --diff: nothing opens); 1 --diff found something that opens;
 * 2 a config is invalid or the arguments are wrong.
 */
import { parseArgs } from 'node:util';
import { compileGateway } from '../compile/gateway.js';
import { loadConfigFile } from '../config/load.js';
import { GatewayMetrics } from '../observe/metrics.js';
import { createProcessLogger } from '../observe/logger.js';
import { buildReport } from './build.js';
import { diffReports, renderDiff } from './diff.js';
import { canonicalJson } from './json.js';
import type { PolicyReport } from './model.js';
import { renderReport } from './render.js';
import { POLICY_USAGE } from './usage.js';


export const EXIT_OPENS = 1;
export const EXIT_USAGE = 2;

const FORMATS = new Set(['table', 'json', 'markdown']);

export interface PolicyOutput {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runPolicy(argv: string[], defaultConfig: string): Promise<PolicyOutput> {
  let values: { config?: string; format?: string; diff?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { config: { type: 'string', short: 'c' }, format: { type: 'string', short: 'f' }, diff: { type: 'boolean' } },
    }));
  } catch (err) {
    return usage((err as Error).message);
  }
  const format = values.format ?? 'table';
  if (!FORMATS.has(format)) return usage(`--format must be table, json or markdown, not "${format}"`);
  try {
    if (values.diff === true) {
      if (positionals.length !== 2 || values.config !== undefined) return usage('--diff takes two config files: OLD NEW');
      const d = diffReports(await reportOf(positionals[0]!), await reportOf(positionals[1]!));
      const text = format === 'json' ? canonicalJson(d) : renderDiff(d, format as 'table' | 'markdown');
      return { code: d.opens > 0 ? EXIT_OPENS : 0, stdout: text, stderr: '' };
    }
    if (positionals.length > 0) return usage(`unexpected argument "${positionals[0]}"`);
    const report = await reportOf(values.config ?? defaultConfig);
    return { code: 0, stdout: format === 'json' ? canonicalJson(report) : renderReport(report, format as 'table' | 'markdown'), stderr: '' };
  } catch (err) {
    return { code: EXIT_USAGE, stdout: '', stderr: (err instanceof Error ? err.message : String(err)) + '\n' };
  }
}

function usage(message: string): PolicyOutput {
  return { code: EXIT_USAGE, stdout: '', stderr: `portcullis policy: ${message}\n${POLICY_USAGE}\n` };
}

/** Validated and compiled as `check` does; the compiled gateway is retired at once (no listener is opened). */
async function reportOf(path: string): Promise<PolicyReport> {
  const cfg = await loadConfigFile(path);
  // The report says it (dev-key-trusted …); the gateway's own startup warnings would repeat it on stderr.
  const { logger } = createProcessLogger({ destination: 2, level: 'error' });
  const gateway = await compileGateway(cfg, { logger, metrics: new GatewayMetrics({ defaultMetrics: false }) });
  try {
    return buildReport(cfg, gateway.routes.routes.map((r) => r.stages.map((s) => s.name)));
  } finally {
    await gateway.retire();
  }
}
