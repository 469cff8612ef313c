/** Loopback ports for the real servers tests start: a free one to give them, and waiting for one to open. */
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
// One free-port finder for the bench and the tests: servers that cannot be told to pick a port and
// report it get one this way (redis-server refuses `--port 0`; NGINX and HAProxy read theirs from a file).
import { freePort } from '../../bench/children.js';

export { freePort };

/** Resolves once 127.0.0.1:`port` accepts a connection; rejects when `child` exits first or the time is up. */
export async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    const open = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`port ${port} not open after ${timeoutMs} ms`);
}
