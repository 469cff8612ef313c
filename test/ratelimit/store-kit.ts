/**
 * Builds the rate-limit pieces the way compile.ts does, against a real Redis, with the log
 * lines and the error counter exposed for assertions.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import type { RedisConfig } from '../../src/config/types.js';
import { GatewayMetrics } from '../../src/observe/metrics.js';
import { createRedisClient, type RedisClient } from '../../src/ratelimit/redis-client.js';
import { RedisStore } from '../../src/ratelimit/redis-store.js';
import { tokenBucketScript } from '../../src/ratelimit/script.js';

export interface StoreKit {
  readonly store: RedisStore;
  readonly client: RedisClient;
  readonly logs: Record<string, unknown>[];
  readonly metrics: GatewayMetrics;
  errors(): Promise<number>;
  /** Resolves once the connection is up (bounded). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function redisConfig(extra: Partial<RedisConfig> = {}): RedisConfig {
  return { tls: false, keyPrefix: 'portcullis:', commandTimeoutMs: 50, connectTimeoutMs: 2000, ...extra };
}

export function captureLogger(): { logger: pino.Logger; logs: Record<string, unknown>[] } {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ base: null }, sink), logs };
}

export async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function makeStore(cfg: RedisConfig, failMode: 'open' | 'closed' = 'open'): StoreKit {
  const { logger, logs } = captureLogger();
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const client = createRedisClient(cfg, tokenBucketScript());
  const store = new RedisStore(client, { logger, errors: metrics.redisErrorsTotal, failMode });
  return {
    store, client, logs, metrics,
    errors: async () => (await metrics.redisErrorsTotal.get()).values[0]?.value ?? 0,
    ready: () => until(() => store.up, 5_000, 'redis up'),
    close: () => store.close(),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
