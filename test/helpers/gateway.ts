/**
 * Portcullis in-process on real sockets (port 0 on 127.0.0.1), with its log
 * lines captured for assertions. For signal and process behaviour use the
 * built binary instead (test/e2e).
 */
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { validateConfig } from '../../src/config/validate.js';
import { compileGateway } from '../../src/compile/gateway.js';
import { GatewayMetrics } from '../../src/observe/metrics.js';
import { Runtime } from '../../src/server/runtime.js';
import { SHAPES } from '../../src/shapes.js';
import { startTracing } from '../../src/server/tracing.js';

export interface TestGateway {
  readonly runtime: Runtime;
  readonly url: string;
  readonly adminUrl: string | null;
  readonly port: number;
  readonly logs: Record<string, unknown>[];
  readonly metrics: GatewayMetrics;
  /** Access-log lines only. */
  access(): Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startGateway(doc: Record<string, unknown>): Promise<TestGateway> {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const logger = pino({ base: null, formatters: { level: (label) => ({ level: label }) } }, sink);
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const listeners = (doc['listeners'] as Record<string, unknown> | undefined) ?? {
    http: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
  };
  const cfg = validateConfig({ ...doc, listeners });
  // As main.ts does: `tracing` absent or off gives NO_TRACING and loads no SDK.
  const deps = { logger, metrics, tracing: await startTracing(cfg.tracing, logger) };
  const runtime = new Runtime('(test)', await compileGateway(cfg, deps), deps, SHAPES);
  await runtime.start();
  const portOf = (name: string): number | null => {
    const l = runtime.listeners.find((x) => x.name === name);
    return l ? (l.server.address() as AddressInfo).port : null;
  };
  const port = portOf('http')!;
  const adminPort = portOf('admin');
  return {
    runtime,
    url: `http://127.0.0.1:${port}`,
    adminUrl: adminPort === null ? null : `http://127.0.0.1:${adminPort}`,
    port,
    logs,
    metrics,
    access: () => logs.filter((l) => l['msg'] === 'access'),
    close: async () => {
      for (const l of runtime.listeners) l.server.closeAllConnections();
      await runtime.shutdown('test');
    },
  };
}

/** Waits until `predicate` holds (log lines arrive asynchronously), bounded. */
export async function eventually(predicate: () => boolean, timeoutMs = 2_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return predicate();
}

/** Waits (bounded, 5 s) for the gateway's JWKS to load, so a first request is not refused for want of keys. */
export async function waitForSigningKeys(gw: TestGateway): Promise<void> {
  if (!(await eventually(() => gw.logs.some((l) => l['msg'] === 'signing keys loaded'), 5_000))) throw new Error('signing keys not loaded');
}
