/**
 * The built `portcullis` binary as a child process, for what only a real
 * process shows: signals, reload, drain, exit codes. Its JSON log lines are
 * collected from stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import type { Test } from 'tap';

export const MAIN = resolve(fileURLToPath(import.meta.url), '../../../dist/src/main.js');

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[];
  readonly stderr: () => string;
  port(listener: string): number;
  exited: Promise<number | null>;
  waitForLog(predicate: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  kill(): void;
}

export async function startProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  let err = '';
  let buf = '';
  child.stdout!.on('data', (c: Buffer) => {
    buf += c.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith('{')) logs.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  child.stderr!.on('data', (c: Buffer) => { err += c.toString('utf8'); });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const waitForLog = async (predicate: (l: Record<string, unknown>) => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const hit = logs.find(predicate);
      if (hit) return hit;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`log line not seen; stderr: ${err}; logs: ${JSON.stringify(logs.slice(-5))}`);
  };
  const gp: GatewayProcess = {
    child, logs, stderr: () => err, exited, waitForLog,
    port(listener: string) {
      const l = logs.find((x) => x['msg'] === 'listening' && x['listener'] === listener);
      if (!l) throw new Error(`listener ${listener} not listening`);
      return l['port'] as number;
    },
    kill() { if (child.exitCode === null) child.kill('SIGKILL'); },
  };
  return gp;
}

/**
 * `portcullis serve` on `configText`, written to gateway.yaml in the test's own directory (the
 * file a test rewrites before a SIGHUP). Killed in teardown, then `alsoClose` (what it talks to).
 */
export async function serveConfigFile(t: Test, configText: string, alsoClose?: () => Promise<void>): Promise<{ gp: GatewayProcess; file: string }> {
  const file = join(t.testdir(), 'gateway.yaml');
  writeFileSync(file, configText);
  const gp = await startProcess(['serve', '--config', file]);
  t.teardown(async () => { gp.kill(); await alsoClose?.(); });
  return { gp, file };
}

/** SIGKILLs every process of `gateways` and waits until all have exited (teardown). */
export async function killAll(gateways: readonly GatewayProcess[]): Promise<void> {
  for (const g of gateways) g.kill();
  await Promise.all(gateways.map((g) => g.exited));
}

/** Run the binary to completion (for `check`). */
export function runToExit(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}
