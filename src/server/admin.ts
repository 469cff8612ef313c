/**
 * The admin listener (PRODUCT §6): `/metrics` (Prometheus text),
 * `/healthz` (the process is alive) and `/readyz` (config loaded and every
 * resource — JWKS, Redis — ready; 503 with the reasons otherwise).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { GatewayHolder } from '../pipeline/gateway.js';
import { identityKeysOf } from '../identity-token/keys.js';

/** RFC 8414-style well-known location of the identity-token keys (PRODUCT §8). */
export const JWKS_PATH = '/.well-known/jwks.json';

/** An admin answer as JSON, never cached (shared with the cluster primary's admin listener). */
export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A JWK Set answer (the body is left out for HEAD), for this listener and the cluster primary's. */
export function sendJwks(res: ServerResponse, method: string | undefined, body: string, cacheControl: string): void {
  res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': cacheControl, 'content-length': Buffer.byteLength(body) });
  res.end(method === 'HEAD' ? undefined : body);
}

export function createAdminServer(holder: GatewayHolder, isShuttingDown: () => boolean): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method_not_allowed' });
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const reasons = holder.current.notReadyReasons();
      if (isShuttingDown()) reasons.push('shutting down');
      return reasons.length ? json(res, 503, { status: 'not_ready', reasons }) : json(res, 200, { status: 'ready' });
    }
    if (path === '/metrics') {
      const registry = holder.current.metrics.registry;
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(text) });
          res.end(text);
        },
        (err: unknown) => {
          holder.current.logger.error({ err }, 'metrics collection failed');
          json(res, 500, { error: 'internal_error' });
        },
      );
      return;
    }
    if (path === JWKS_PATH) {
      // The public halves of identityTokens.keys (docs/identity-token.md); the current config's.
      const keys = identityKeysOf(holder.current.resources);
      if (keys === null) return json(res, 404, { error: 'not_found' });
      return sendJwks(res, req.method, keys.jwksBody, keys.cacheControl);
    }
    json(res, 404, { error: 'not_found' });
  });
}
