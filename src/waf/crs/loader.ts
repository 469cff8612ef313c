/**
 * Loads a CRS directory at config load (once per Gateway): the setup file, the exclusion files'
 * runtime rules, the rule files in name order (`REQUEST-901-…` first, as CRS's INSTALL says),
 * then the exclusion files' configure-time directives (SecRuleRemoveById, SecRuleUpdateTarget…),
 * which CRS places after its rules. `@pmFromFile` data files are read relative to the rule file.
 *
 * `rulesDir` may be a CRS checkout or release (its rules in `rules/`) or Debian's
 * modsecurity-crs package (`/usr/share/modsecurity-crs`, same layout); a directory of .conf files
 * works too. Reads are synchronous: this runs while the config is compiled, before serving and
 * on reload, like the rest of compile.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Evaluator } from './evaluate.js';
import { lex } from './lexer.js';
import type { Skipped } from './model.js';
import type { OperatorSource } from './operators.js';
import { RuleBuilder } from './parse.js';

export interface CrsOptions {
  readonly rulesDir: string;
  /** A crs-setup.conf; absent: `<rulesDir>/crs-setup.conf` if present, else the engine's defaults. */
  readonly setup?: string | undefined;
  /** Files of CRS-style exclusion rules (REQUEST-900 / RESPONSE-999 style). */
  readonly exclusions?: readonly string[] | undefined;
  readonly paranoia: number;
  readonly anomalyThreshold: number;
  /** Off only for tests that compare with and without it. */
  readonly prefilter?: boolean;
  /** Folding of the request-independent rules (fold.ts); off only for tests that compare. */
  readonly fold?: boolean;
}

export interface LoadedCrs {
  readonly evaluator: Evaluator;
  /** TX values set before the first rule (paranoia, threshold, setup version). */
  readonly initialTx: readonly (readonly [string, string])[];
  readonly files: readonly string[];
  readonly ruleCount: number;
  readonly skipped: readonly Skipped[];
  readonly bounded: readonly number[];
  readonly version: string;
}

/** What the setup file would set when there is none (crs-setup.conf.example's 900990). */
const BUILT_IN_SETUP_VERSION = '400';

export class CrsLoadError extends Error {
  readonly code = 'PORTCULLIS_ERR_CRS_LOAD';
}

function rulesFolder(dir: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CrsLoadError(`${dir} is not a directory`);
  const nested = join(dir, 'rules');
  return existsSync(nested) && statSync(nested).isDirectory() ? nested : dir;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'latin1');
  } catch (err) {
    throw new CrsLoadError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Phrases of a data file: one a line, `#` comments and blank lines skipped. */
function phraseFile(ruleFile: string): OperatorSource {
  return {
    readPhraseFile(name: string): string[] {
      const path = resolve(dirname(ruleFile), name);
      return readText(path).split('\n').map((l) => l.replace(/\r$/, '').trim()).filter((l) => l !== '' && !l.startsWith('#'));
    },
  };
}

export function loadCrs(opts: CrsOptions): LoadedCrs {
  const root = resolve(opts.rulesDir);
  const folder = rulesFolder(root);
  const ruleFiles = readdirSync(folder).filter((f) => f.endsWith('.conf')).sort().map((f) => join(folder, f));
  if (ruleFiles.length === 0) throw new CrsLoadError(`${folder} holds no .conf rule files`);
  let setup = opts.setup === undefined ? null : resolve(opts.setup);
  if (setup === null && existsSync(join(root, 'crs-setup.conf'))) setup = join(root, 'crs-setup.conf');
  const exclusions = (opts.exclusions ?? []).map((f) => resolve(f));

  const builder = new RuleBuilder(phraseFile);
  const feed = (file: string, mode: 'all' | 'rules' | 'config'): void => {
    builder.mode = mode;
    for (const d of lex(readText(file), file)) builder.add(d);
    builder.endFile(file);
  };
  if (setup !== null) feed(setup, 'all');
  for (const f of exclusions) feed(f, 'rules');
  for (const f of ruleFiles) feed(f, 'all');
  for (const f of exclusions) feed(f, 'config');
  const built = builder.finish();

  const signature = /SecComponentSignature\s+"OWASP_CRS\/([\d.]+)"/.exec(readText(ruleFiles.find((f) => /901/.test(f)) ?? ruleFiles[0]!));
  const initialTx: [string, string][] = [
    ['blocking_paranoia_level', String(opts.paranoia)],
    ['detection_paranoia_level', String(opts.paranoia)],
    ['inbound_anomaly_score_threshold', String(opts.anomalyThreshold)],
    // CRS 3 names
    ['paranoia_level', String(opts.paranoia)],
    ['executing_paranoia_level', String(opts.paranoia)],
  ];
  if (setup === null) initialTx.push(['crs_setup_version', BUILT_IN_SETUP_VERSION]);
  return {
    evaluator: new Evaluator(built.phases, opts.prefilter ?? true, initialTx, opts.fold ?? true),
    initialTx,
    files: [...(setup === null ? [] : [setup]), ...exclusions, ...ruleFiles],
    ruleCount: built.ruleCount,
    skipped: built.skipped,
    bounded: built.bounded,
    version: signature?.[1] ?? 'unknown',
  };
}
