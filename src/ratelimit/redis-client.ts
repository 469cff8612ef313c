/**
 * The one ioredis client of a Gateway, in the deployment shape the config names (PRODUCT §3):
 * a single URL, Sentinel (sentinels + name) or Cluster. Every option here is about bounding the
 * time a request can spend on Redis (STYLE §3):
 *
 * - `commandTimeout`: each call fails after commandTimeoutMs (default 50), and failMode decides;
 * - `enableOfflineQueue: false`: while disconnected a call fails at once instead of queueing,
 *   so an outage costs nothing per request and nothing piles up to replay at recovery;
 * - `maxRetriesPerRequest: 0`, `autoResendUnfulfilledCommands: false`: a call cut by a dropped
 *   connection is not retried later, when its request has long been answered;
 * - reconnects never stop, backing off 50 ms → 1 s (plus jitter, so a fleet does not reconnect
 *   in lockstep): recovery needs no restart.
 *
 * `enableAutoPipelining` stays off: it saves write syscalls, but measured more client CPU per
 * call at concurrency 1-4, none less at 16-50, and a loop turn of latency (docs/performance.md).
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/types.js';

const MAX_BACKOFF_MS = 1_000;

/** The bucket script's call, added to the client by defineCommand. */
export interface TokenBucketCommand {
  portcullisTokenBucket(key: string, capacity: string, refillPerSecond: string): Promise<unknown>;
  /** The same script taking `want` tokens after putting `refund` back (a lease, lease.ts). */
  portcullisTokenBucket(key: string, capacity: string, refillPerSecond: string, want: string, refund: string): Promise<unknown>;
}

export type RedisClient = (Redis | Cluster) & TokenBucketCommand;

export function backoffMs(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 10), MAX_BACKOFF_MS) + Math.floor(Math.random() * 50);
}

function commonOptions(cfg: RedisConfig): RedisOptions {
  const options: RedisOptions = {
    commandTimeout: cfg.commandTimeoutMs,
    connectTimeout: cfg.connectTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: backoffMs,
  };
  if (cfg.username !== undefined) options.username = cfg.username;
  if (cfg.password !== undefined) options.password = cfg.password;
  if (cfg.tls) options.tls = {};
  return options;
}

/**
 * Creates the client (connecting starts at once) and registers the bucket script under
 * `portcullisTokenBucket`: ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT (a restarted
 * or flushed Redis), once per connection, so the script text crosses the wire only when needed.
 */
export function createRedisClient(cfg: RedisConfig, lua: string): RedisClient {
  const client = connectRedis(cfg);
  client.defineCommand('portcullisTokenBucket', { numberOfKeys: 1, lua });
  return client as RedisClient;
}

/** A client in the config's deployment shape with the bounded options above, no script (the session store's). */
export function connectRedis(cfg: RedisConfig): Redis | Cluster {
  const common = commonOptions(cfg);
  let client: Redis | Cluster;
  if (cfg.cluster !== undefined) {
    // Per-node connections are lazy and need their own offline queue for the first command
    // (ioredis ClusterOptions); commandTimeout still bounds every call, queued or not.
    const { enableOfflineQueue: _queue, retryStrategy: _retry, ...nodeOptions } = common;
    const options: ClusterOptions = {
      enableOfflineQueue: false,
      clusterRetryStrategy: backoffMs,
      clusterNodeRetryStrategy: backoffMs,
      // Slot-map refreshes are awaited by commands after a MOVED; keep them short too.
      slotsRefreshTimeout: Math.max(cfg.commandTimeoutMs, 200),
      redisOptions: nodeOptions,
    };
    client = new Cluster(cfg.cluster.map((n) => ({ host: n.host, port: n.port })), options);
  } else if (cfg.sentinels !== undefined) {
    client = new Redis({
      ...common,
      sentinels: cfg.sentinels.map((n) => ({ host: n.host, port: n.port })),
      name: cfg.name ?? '',
      sentinelRetryStrategy: backoffMs,
      sentinelCommandTimeout: Math.max(cfg.commandTimeoutMs, 200),
      sentinelMaxConnections: 4,
      enableTLSForSentinelMode: cfg.tls,
    });
  } else {
    client = new Redis(cfg.url ?? 'redis://127.0.0.1:6379', common);
  }
  return client;
}
