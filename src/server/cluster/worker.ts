/**
 * The worker side of server.workers: report ready to the primary, answer its questions, and
 * leave when it goes away.
 */
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Runtime } from '../runtime.js';
import { identityKeysOf } from '../../identity-token/keys.js';
import {
  MSG_JWKS_REQ, MSG_JWKS_RES, MSG_METRICS_REQ, MSG_METRICS_RES, MSG_READY, MSG_READYZ_REQ, MSG_READYZ_RES, isMessage,
  type JwksRequest, type JwksResponse, type MetricsRequest, type MetricsResponse, type ReadyMessage, type ReadyzRequest, type ReadyzResponse,
} from './messages.js';

/**
 * In a worker, after its listeners are up: tell the primary, answer its /readyz, /metrics and
 * JWKS questions (the JWKS of the config this worker runs now, so a reload is seen at once), and drain and exit if the primary goes away (its IPC channel closes), so no worker
 * outlives a killed primary.
 */
export function attachWorkerToPrimary(runtime: Runtime, registry: Registry, logger: Logger, stop: (reason: string) => void): void {
  process.on('message', (message: unknown) => {
    if (isMessage<ReadyzRequest>(message, MSG_READYZ_REQ)) {
      const reasons = runtime.current.notReadyReasons();
      if (runtime.shuttingDown) reasons.push('shutting down');
      process.send?.({ type: MSG_READYZ_RES, id: message.id, reasons } satisfies ReadyzResponse);
    } else if (isMessage<JwksRequest>(message, MSG_JWKS_REQ)) {
      const keys = identityKeysOf(runtime.current.resources);
      const jwks = keys === null ? null : { body: keys.jwksBody, cacheControl: keys.cacheControl };
      process.send?.({ type: MSG_JWKS_RES, id: message.id, jwks } satisfies JwksResponse);
    } else if (isMessage<MetricsRequest>(message, MSG_METRICS_REQ)) {
      const id = message.id;
      registry.getMetricsAsJSON().then(
        (metrics) => process.send?.({ type: MSG_METRICS_RES, id, metrics } satisfies MetricsResponse),
        (err: unknown) => {
          logger.error({ err }, 'metrics collection failed');
          process.send?.({ type: MSG_METRICS_RES, id, metrics: null } satisfies MetricsResponse);
        },
      );
    }
  });
  process.once('disconnect', () => {
    // Already draining (the primary forwarded SIGTERM, then went): let that drain finish.
    if (runtime.shuttingDown) return;
    logger.warn('the cluster primary went away: draining and exiting');
    stop('primary disconnected');
  });
  const ready: ReadyMessage = { type: MSG_READY };
  process.send?.(ready);
}

/** Whether this process is a worker forked by runPrimary. */
export function isClusterWorker(): boolean {
  return cluster.isWorker;
}
