// The second reference (issue 8 §1): the gateway a Node user would assemble from fastify's own
// plugins instead of Portcullis — @fastify/jwt (fast-jwt, RS256 with the run's public key, iss
// and aud checked), a scope check, @fastify/rate-limit on the same Redis keyed by `sub`, and
// @fastify/reply-from (undici) to the same upstream with an X-User-Id header — plus one access
// line per response written through fastify's pino logger to a file, as Portcullis writes its own.
// Each plugin is used with its documented defaults; nothing is tuned beyond what the job needs.
//
//   node dist/bench/fastify-stack.js <upstream-origin> <redis-url> <public-key.pem> <issuer> <log-file> [port]
//
// Differences that remain, and favour this stack: @fastify/rate-limit is a fixed window (INCR +
// PEXPIRE), not a token bucket; it has no path normalisation, header sanitising, identity-header
// anti-spoofing, metrics or WAF. Prints "LISTENING <port>" once ready.
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyJwt from '@fastify/jwt';
import rateLimit from '@fastify/rate-limit';
import replyFrom from '@fastify/reply-from';
import { Redis } from 'ioredis';
import pino from 'pino';
import { exitWhenParentGoes, parsePortArg } from './child-io.js';

const [origin, redisUrl, pemPath, issuer, logFile, portArg] = process.argv.slice(2);
if (origin === undefined || redisUrl === undefined || pemPath === undefined || issuer === undefined || logFile === undefined) {
  console.error('usage: fastify-stack <upstream-origin> <redis-url> <public-key.pem> <issuer> <log-file> [port]');
  process.exit(2);
}
const port = parsePortArg(portArg, 'fastify-stack');

interface BenchUser {
  sub?: string;
  scope?: string;
}

const app = Fastify({
  logger: { level: 'info', stream: pino.destination({ dest: logFile, sync: false }) },
  // one line per response from the onResponse hook below instead of fastify's two per request
  disableRequestLogging: true,
});

await app.register(fastifyJwt, {
  secret: { public: readFileSync(pemPath, 'utf8') },
  verify: { algorithms: ['RS256'], allowedIss: issuer, allowedAud: 'bench' },
});

app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
  try {
    await req.jwtVerify();
  } catch {
    return reply.code(401).send({ error: 'unauthorized' });
  }
  const scope = (req.user as BenchUser).scope ?? '';
  if (!scope.split(' ').includes('bench:read')) return reply.code(403).send({ error: 'forbidden' });
});

// The plugin's Redis store keeps its own client; commandTimeout as Portcullis's default, so an
// outage costs the same bounded time on both sides.
const redis = new Redis(redisUrl, { commandTimeout: 50, maxRetriesPerRequest: 0, enableOfflineQueue: false });
await app.register(rateLimit, {
  global: true,
  max: 1_000_000_000,
  timeWindow: 60_000,
  redis,
  nameSpace: 'fastify-bench-rl-',
  hook: 'preHandler', // after onRequest, so req.user is set
  skipOnError: true, // a Redis timeout lets the request through, as Portcullis's failMode: open does (else 500)
  keyGenerator: (req: FastifyRequest) => (req.user as BenchUser | undefined)?.sub ?? req.ip,
});

await app.register(replyFrom, { base: origin, undici: { connections: 128, pipelining: 1 } });

app.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
  req.log.info({
    method: req.method, url: req.url, status: reply.statusCode, durationMs: reply.elapsedTime,
    sub: (req.user as BenchUser | undefined)?.sub ?? null, userAgent: req.headers['user-agent'] ?? null,
  }, 'access');
});

app.all('/*', (req: FastifyRequest, reply: FastifyReply) => {
  return reply.from(req.url, {
    rewriteRequestHeaders: (_req, headers) => ({ ...headers, 'x-user-id': (req.user as BenchUser).sub ?? '' }),
  });
});

app.listen({ host: '127.0.0.1', port }).then(
  () => {
    const addr = app.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('fastify-stack: unexpected listen address');
    process.stdout.write(`LISTENING ${addr.port}\n`);
  },
  (err: unknown) => {
    console.error(`fastify-stack: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

exitWhenParentGoes();
