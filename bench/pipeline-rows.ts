// The rows of issue 8: the issue-8 baseline (pool.request() + stream.pipeline) as a reference, the full pipeline
// (RS256 JWT with and without the verified-token cache, Redis token bucket, WAF in block mode,
// access log to a file), the same with 10,000 distinct tokens and client addresses in rotation
// (the memory target), with `server.workers: 2`, and the fastify stack a Node user would
// assemble instead (the second reference).
//
// Every row here sends the baseline's request (auth-fixture.ts `load`), so all of them move the
// same bytes per request; the rotation row adds its rotating headers on top.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './children.js';
import { authFixture, ISSUER } from './auth-fixture.js';
import type { LoadSpec } from './load.js';
import { benchRedisUrl } from './redis.js';
import type { BenchEnv, Scenario, Target } from './row.js';
import { startPortcullis, startScript } from './start.js';

/** Distinct clients of the memory row (issue 8 §3); the token cache's default maxEntries holds them all. */
export const ROTATING_CLIENTS = 10_000;
/** The second reference's row name; the full pipeline's throughput is compared with it. */
export const FASTIFY_ROW = 'fastify+reply-from+jwt+rate-limit (Redis)';
/** Workers of the scale-out row: one per core of the machines this is measured on. */
const WORKERS = 2;
const READY_TIMEOUT_MS = 15_000;
const FASTIFY_STACK_JS = fileURLToPath(new URL('./fastify-stack.js', import.meta.url));
const BARE_PROXY_REQUEST_JS = fileURLToPath(new URL('./bare-proxy.js', import.meta.url));

export interface PipelineOptions {
  /** tokenCache.maxEntries; 0 verifies the signature on every request. */
  tokenCacheEntries: number;
  /** Rate-limit key: `sub` (one bucket per token) or `ip` (the rotation row's X-Forwarded-For). */
  bucketKey: 'sub' | 'ip';
  /** Trust X-Forwarded-For from 127.0.0.1 (the rotation row's clients are named there). */
  trustLoopback: boolean;
  workers: number;
  /** Include the `waf` section in block mode (else `mode: off`). */
  waf: boolean;
  /** The bucket's bounded local lease (issue 17): tokens per Redis call; 0 = exact mode (the default). */
  leaseTokens?: number;
}

/** Lease of the lease row: one EVALSHA per 100 requests of the one bench client. */
const BENCH_LEASE_TOKENS = 100;

/**
 * The full pipeline: one public route before the API route (so matching walks a table), the
 * API route with a required scope, an identity header, a token bucket in Redis whose capacity
 * the bench never exhausts (every request is decided by one EVALSHA, none is limited), and the
 * WAF in block mode at paranoia 1 inspecting URI, query, headers and cookies.
 */
export function fullPipelineConfig(port: number, env: BenchEnv, redisUrl: string, o: PipelineOptions): string {
  return [
    `server: { trustedProxies: [${o.trustLoopback ? '127.0.0.1/32' : ''}]${o.workers > 1 ? `, workers: ${o.workers}` : ''} }`,
    'listeners:',
    `  http: { host: 127.0.0.1, port: ${port} }`,
    'redis:',
    `  url: ${redisUrl}`,
    '  keyPrefix: "portcullis-bench:"',
    ...authFixture.authYaml(o.tokenCacheEntries),
    'rateLimits:',
    '  failMode: open',
    '  policies:',
    `    bench: { key: ${o.bucketKey}, capacity: 1000000000, refillPerSecond: 1000000000` +
      `${o.leaseTokens ? `, lease: { tokens: ${o.leaseTokens}, ttlMs: 1000 }` : ''} }`,
    `waf: { mode: ${o.waf ? 'block' : 'off'}, paranoia: 1 }`,
    'routes:',
    '  - name: health',
    '    match: { path: /healthz, methods: [GET] }',
    '    auth: none',
    `    upstream: ${env.upstreamUrl}`,
    '  - name: orders',
    '    match: { path: /api/v1/orders, methods: [GET, POST] }',
    '    auth: { scopes: ["bench:read"] }',
    '    identityHeaders: { X-User-Id: sub }',
    '    rateLimit: bench',
    `    upstream: ${env.upstreamUrl}`,
    '',
  ].join('\n');
}

// ---- starting the rows -----------------------------------------------------------------------

async function startFullPipeline(env: BenchEnv, slug: string, o: PipelineOptions): Promise<Target> {
  await authFixture.prepare(env.workDir);
  // ~1 ms of RSA signing per token: done here, once per run, not inside a measured run
  if (o.bucketKey === 'ip') authFixture.many(ROTATING_CLIENTS);
  const redisUrl = await benchRedisUrl();
  return startPortcullis(env, slug, (port) => fullPipelineConfig(port, env, redisUrl, o));
}

async function startFastifyStack(env: BenchEnv): Promise<Target> {
  await authFixture.prepare(env.workDir);
  const redisUrl = await benchRedisUrl();
  const pem = join(env.workDir, 'bench-public.pem');
  await writeFile(pem, authFixture.publicKeyPem());
  return startScript('fastify-stack', [
    FASTIFY_STACK_JS, env.upstreamUrl, redisUrl, pem, ISSUER, join(env.workDir, 'fastify.access.log'), String(await freePort()),
  ], READY_TIMEOUT_MS);
}

/** The baseline request plus, per request, one of ROTATING_CLIENTS tokens and client addresses. */
function rotatingLoad(): LoadSpec {
  const base = authFixture.load;
  const headers = { ...base.headers };
  delete headers['authorization'];
  const bearer = authFixture.many(ROTATING_CLIENTS).map((t) => `Bearer ${t}`);
  return {
    ...base,
    headers,
    rotate: {
      count: ROTATING_CLIENTS,
      // 10.0.0.0/8 addresses, distinct for every i < 2^24
      headers: (i) => ({ authorization: bearer[i]!, 'x-forwarded-for': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }),
    },
  };
}

/** The rows of this file, in their order in the table. */
export function pipelineScenarios(): Scenario[] {
  const full = (name: string, slug: string, o: PipelineOptions, extra: Partial<Scenario> = {}): Scenario => ({
    name,
    load: authFixture.load,
    start: (env) => startFullPipeline(env, slug, o),
    ...extra,
  });
  const one = { tokenCacheEntries: 10_000, bucketKey: 'sub', trustLoopback: false, workers: 1, waf: true } as const;
  return [
    {
      // the baseline of issue 8, kept so older figures can be related to the new baseline
      name: 'reference: bare undici proxy (pool.request + pipeline)',
      load: authFixture.load,
      start: (env) => startScript('bare-proxy', [BARE_PROXY_REQUEST_JS, env.upstreamUrl], READY_TIMEOUT_MS),
    },
    full('full pipeline (JWT+cache, Redis bucket, WAF, log)', 'full', one, {
      minRatio: 0.8,
      maxP99OverBaselineMs: 2,
      minRatioOver: { row: FASTIFY_ROW, min: 2 },
    }),
    // The same row without the WAF: the WAF's share of the full pipeline (issue 5), in the same run.
    full('full pipeline, WAF off', 'full-waf-off', { ...one, waf: false }),
    full('full pipeline, no token cache', 'full-nocache', { ...one, tokenCacheEntries: 0 }),
    // The same row with the Redis bucket's local lease (issue 17): the Redis round trip's share.
    full(`full pipeline, Redis lease of ${BENCH_LEASE_TOKENS}`, 'full-lease', { ...one, leaseTokens: BENCH_LEASE_TOKENS }, {
      minRatio: 0.8,
      maxP99OverBaselineMs: 2,
      minRatioOver: { row: FASTIFY_ROW, min: 2 },
    }),
    {
      ...full(`full pipeline, ${ROTATING_CLIENTS / 1000}k tokens+clients rotating`, 'full-rotating',
        // the warm-up must present every token once (~10 k first verifications) before measuring
        { tokenCacheEntries: ROTATING_CLIENTS, bucketKey: 'ip', trustLoopback: true, workers: 1, waf: true }, { maxRssMB: 150, warmupSec: 10 }),
      // read by run.ts after start(), which minted the tokens
      get load(): LoadSpec {
        return rotatingLoad();
      },
    },
    full(`full pipeline, server.workers: ${WORKERS}`, 'full-workers', { ...one, workers: WORKERS }),
    {
      name: FASTIFY_ROW,
      load: authFixture.load,
      start: (env) => startFastifyStack(env),
    },
  ];
}
