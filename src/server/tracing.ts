/**
 * The process's Tracing from `tracing` (docs/tracing.md), built once at startup like the logger
 * and the metrics registry, and handed to every Gateway through GatewayDeps. Here rather than in
 * observe/ because `trustParentFrom` is a trust list, which route/ owns; observe/ imports nothing
 * of ours.
 */
import type { Logger } from 'pino';
import type { TracingConfig } from '../config/types.js';
import { TrustedProxies } from '../route/client-ip.js';
import { loadTracing } from '../observe/tracing/load.js';
import type { Tracing } from '../observe/tracing/tracing.js';

export function startTracing(cfg: TracingConfig | undefined, logger: Logger): Promise<Tracing> {
  // trustParentFrom "trustedProxies": the Exchange already knows whether its peer is one (null here).
  const trust = cfg === undefined || cfg.trustParentFrom === 'trustedProxies' ? null : new TrustedProxies(cfg.trustParentFrom);
  return loadTracing(cfg, trust, logger);
}

/** Whether a reload changed `tracing`: it is built once per process, so that needs a restart. */
export function tracingChanged(before: TracingConfig | undefined, after: TracingConfig | undefined): boolean {
  return JSON.stringify(before ?? null) !== JSON.stringify(after ?? null);
}
