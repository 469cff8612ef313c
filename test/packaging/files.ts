/**
 * The packaging files as data, for test/packaging/*.test.ts: the Dockerfile parsed into stages and
 * instructions, YAML files (compose, Kubernetes, gateway configs) parsed with the `yaml` package,
 * and `portcullis check` run on a config file. No container engine is involved.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments, parseDocument } from 'yaml';
import { MAIN } from '../helpers/process.js';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const repoPath = (...parts: string[]): string => join(ROOT, ...parts);

export type Json = Record<string, unknown>;

/** One instruction: `op` uppercase, `args` the rest of the (continued) line. */
export interface Instruction {
  readonly op: string;
  readonly args: string;
}

export interface Stage {
  readonly from: string;
  readonly name: string | null;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  /** ARGs before the first FROM, with their defaults. */
  readonly globalArgs: ReadonlyMap<string, string>;
  readonly stages: readonly Stage[];
}

/** Lines joined at trailing backslashes; comment lines dropped, also inside a continuation (as Docker does). */
export function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push((current + line).trim());
    current = '';
  }
  if (current !== '') logical.push(current.trim());
  const globalArgs = new Map<string, string>();
  const stages: { from: string; name: string | null; instructions: Instruction[] }[] = [];
  for (const line of logical) {
    const m = /^(\S+)\s*(.*)$/s.exec(line);
    if (m === null) continue;
    const op = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (op === 'FROM') {
      const [image, as, name] = args.split(/\s+/);
      const from = image!.replace(/^\$\{(\w+)\}$/, (_, v: string) => globalArgs.get(v) ?? '');
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name ?? null : null, instructions: [] });
    } else if (stages.length === 0) {
      if (op === 'ARG') {
        const [k, v] = args.split('=');
        globalArgs.set(k!, v ?? '');
      }
    } else {
      stages.at(-1)!.instructions.push({ op, args });
    }
  }
  return { globalArgs, stages };
}

export async function readDockerfile(): Promise<Dockerfile> {
  return parseDockerfile(await readFile(repoPath('Dockerfile'), 'utf8'));
}

/** The instructions of one kind in a stage. */
export const instructions = (stage: Stage, op: string): Instruction[] => stage.instructions.filter((i) => i.op === op);

/** The last instruction of a kind (ENTRYPOINT, CMD, HEALTHCHECK, USER, WORKDIR: the last one counts). */
export function last(stage: Stage, op: string): Instruction | undefined {
  return instructions(stage, op).at(-1);
}

/** An exec-form (JSON array) argument list; throws on the shell form. */
export function execForm(args: string): string[] {
  if (!args.startsWith('[')) throw new Error(`not exec form: ${args}`);
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`not a string array: ${args}`);
  return parsed as string[];
}

/** `COPY [--from=x] [--chown=…] src… dest` (space-separated form). */
export function copyArgs(args: string): { from: string | null; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const rest = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length) ?? null;
  return { from, sources: rest.slice(0, -1), dest: rest.at(-1)! };
}

/** The value after `--config` in an argument list. */
export function configArg(args: readonly string[]): string {
  const i = args.indexOf('--config');
  if (i < 0 || args[i + 1] === undefined) throw new Error(`no --config in ${JSON.stringify(args)}`);
  return args[i + 1]!;
}

export async function readYaml(path: string): Promise<Json> {
  const doc = parseDocument(await readFile(path, 'utf8'), { merge: true, uniqueKeys: true });
  if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join('; ')}`);
  return doc.toJS({ maxAliasCount: 100 }) as Json;
}

/** Every document of a multi-document YAML file; throws on any parse error. */
export async function readYamlDocs(path: string): Promise<Json[]> {
  const docs = parseAllDocuments(await readFile(path, 'utf8'), { uniqueKeys: true });
  if (!Array.isArray(docs)) throw new Error(`${path}: not a YAML stream`);
  const out: Json[] = [];
  for (const d of docs) {
    if (d.errors.length > 0) throw new Error(`${path}: ${d.errors.map((e) => e.message).join('; ')}`);
    const v = d.toJS() as Json | null;
    if (v !== null) out.push(v);
  }
  return out;
}

/** A nested value by dotted path, or undefined. */
export function get(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Json)[k];
  }
  return v;
}

/** The listeners of a gateway config: name → { host, port }. */
export function listenerPorts(config: Json): Map<string, { host: string; port: number }> {
  const out = new Map<string, { host: string; port: number }>();
  for (const [name, l] of Object.entries((config['listeners'] ?? {}) as Record<string, Json>)) {
    out.set(name, { host: String(l['host']), port: Number(l['port']) });
  }
  return out;
}

const run = promisify(execFile);

/** `portcullis check --config <file>` with the built binary: exit code and output. */
export async function portcullisCheck(file: string, cwd = ROOT): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, 'check', '--config', file], { cwd, timeout: 30_000 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}
