/** Request contexts for stage-level tests: the real RequestCtx, with an identity as auth would set it. */
import type { IncomingHttpHeaders } from 'node:http';
import { RequestCtx } from '../../src/pipeline/context.js';
import type { Identity } from '../../src/contract/types.js';

export function makeCtx(opts: { ip?: string; headers?: IncomingHttpHeaders; identity?: Identity | null } = {}): RequestCtx {
  const ctx = new RequestCtx('req-1', opts.ip ?? '192.0.2.7', 'edge', 'GET', 'api.example.com', '/x', '', 'http', opts.headers ?? {}, 0n);
  ctx.identity = opts.identity ?? null;
  return ctx;
}

export function identity(sub: string | null, claims: Record<string, unknown> = {}): Identity {
  return { provider: 'corp', sub, claims: sub === null ? claims : { sub, ...claims } };
}
