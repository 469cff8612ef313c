// Small helpers shared by the benchmark's child processes (upstream.ts, bare-proxy*.ts, otlp-receiver.ts).
import type { Server } from 'node:http';

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

/**
 * Listens on 127.0.0.1:`port` (0: ephemeral), prints "LISTENING <port>" for run.ts once bound,
 * exits on a server error, and exits when the runner goes (exitWhenParentGoes).
 */
export function listenAndAnnounce(server: Server, port: number, who: string): void {
  server.on('error', (err) => {
    console.error(`${who}: ${err.message}`);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => {
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error(`${who}: unexpected listen address`);
    process.stdout.write(`LISTENING ${addr.port}\n`);
  });
  exitWhenParentGoes();
}
