// Small helpers shared by the benchmark's child processes (upstream.ts, bare-proxy.ts).

/** Env var run.ts sets on the children it spawns; see exitWhenParentGoes(). */
export const PARENT_WATCH_ENV = 'BENCH_EXIT_ON_STDIN_END';

/** Parses an optional port argument (absent → 0, an ephemeral port); exits with a message when invalid. */
export function parsePortArg(arg: string | undefined, who: string): number {
  if (arg === undefined || arg === '') return 0;
  const port = Number(arg);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`${who}: invalid port ${JSON.stringify(arg)}`);
    process.exit(2);
  }
  return port;
}

/**
 * When spawned by run.ts (which keeps a pipe on our stdin), exit as soon as that pipe closes:
 * the runner ended, even if it was killed with SIGKILL, so no orphan keeps a port busy.
 * Started by hand (no env var), the process runs until it is signalled.
 */
export function exitWhenParentGoes(): void {
  if (process.env[PARENT_WATCH_ENV] !== '1') return;
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}
