/**
 * Semantic rules of `redis`, `rateLimits` and route `rateLimit` that the JSON Schema cannot
 * express (STYLE §4, second pass). Like config/semantic.ts, it reads the document defensively:
 * values of the wrong type were reported by the schema pass already.
 */
import type { PathSegment } from '../config/messages.js';

type Obj = Record<string, unknown>;
type Report = (path: readonly PathSegment[], message: string) => void;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function checkRateLimitConfig(doc: Obj, report: Report): void {
  if (isObj(doc.redis)) checkRedis(doc.redis, report);
  const policies = isObj(doc.rateLimits) && isObj(doc.rateLimits.policies) ? doc.rateLimits.policies : {};
  const known = Object.keys(policies);
  const routes = Array.isArray(doc.routes) ? doc.routes : [];
  for (const [name, p] of Object.entries(policies)) checkLease(name, p, isObj(doc.redis), report);
  routes.forEach((r, i) => {
    if (!isObj(r) || typeof r.rateLimit !== 'string' || Object.hasOwn(policies, r.rateLimit)) return;
    const hint = known.length ? `rateLimits.policies defines ${known.join(', ')}` : 'rateLimits.policies defines none';
    report(['routes', i, 'rateLimit'], `unknown rate-limit policy "${r.rateLimit}" (${hint})`);
  });
}

/** A lease shares a Redis bucket; it cannot hold more than the bucket does. */
function checkLease(name: string, p: unknown, hasRedis: boolean, report: Report): void {
  if (!isObj(p) || !isObj(p.lease)) return;
  const at = ['rateLimits', 'policies', name, 'lease'];
  if (!hasRedis) report(at, 'needs `redis`: without it buckets are in-process and every decision is already local and exact');
  if (typeof p.lease.tokens === 'number' && typeof p.capacity === 'number' && p.lease.tokens > p.capacity) {
    report([...at, 'tokens'], `must not exceed the policy's capacity (${p.capacity})`);
  }
}

function checkRedis(redis: Obj, report: Report): void {
  const shapes = (['url', 'sentinels', 'cluster'] as const).filter((k) => redis[k] !== undefined);
  if (shapes.length !== 1) {
    const found = shapes.length === 0 ? 'none is set' : `found ${shapes.join(', ')}`;
    report(['redis'], `must set exactly one of url, sentinels or cluster (${found})`);
  }
  if (redis.sentinels !== undefined && redis.name === undefined) report(['redis', 'name'], 'is required with sentinels');
  if (redis.sentinels === undefined && redis.name !== undefined) report(['redis', 'name'], 'is only used with sentinels');
  if (typeof redis.url === 'string' && /^rediss?:\/\//.test(redis.url)) {
    let url: URL | null = null;
    try {
      url = new URL(redis.url);
    } catch {
      // reported below
    }
    if (url === null || url.hostname === '') report(['redis', 'url'], 'must be a valid redis:// URL with a host');
    else if (url.search !== '' || url.hash !== '') report(['redis', 'url'], 'must not have a query or fragment');
  }
}
