/**
 * The messages between the cluster primary and its workers (server.workers, issue 8 §4), over
 * node:cluster's IPC channel: "ready" once a worker listens, and the primary's /readyz,
 * /metrics and /.well-known/jwks.json questions with their answers, matched by id.
 */
import type { Registry } from 'prom-client';

export const MSG_READY = 'portcullis:worker-ready';
export const MSG_READYZ_REQ = 'portcullis:readyz-req';
export const MSG_READYZ_RES = 'portcullis:readyz-res';
export const MSG_METRICS_REQ = 'portcullis:metrics-req';
export const MSG_METRICS_RES = 'portcullis:metrics-res';
export const MSG_JWKS_REQ = 'portcullis:jwks-req';
export const MSG_JWKS_RES = 'portcullis:jwks-res';

export interface ReadyMessage { type: typeof MSG_READY }
export interface ReadyzRequest { type: typeof MSG_READYZ_REQ; id: number }
export interface ReadyzResponse { type: typeof MSG_READYZ_RES; id: number; reasons: string[] }
export interface MetricsRequest { type: typeof MSG_METRICS_REQ; id: number }
export interface MetricsResponse { type: typeof MSG_METRICS_RES; id: number; metrics: MetricsJson | null }
export interface JwksRequest { type: typeof MSG_JWKS_REQ; id: number }
/** The worker's current identity-token JWKS (identity-token/keys.ts), or null when it has none. */
export interface JwksResponse { type: typeof MSG_JWKS_RES; id: number; jwks: { body: string; cacheControl: string } | null }
/** What prom-client's getMetricsAsJSON() returns, as AggregatorRegistry.aggregate() takes it. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

export function isMessage<T extends { type: string }>(m: unknown, type: T['type']): m is T {
  return m !== null && typeof m === 'object' && (m as { type?: unknown }).type === type;
}
