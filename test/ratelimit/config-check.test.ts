/** `redis`, `rateLimits` and route `rateLimit` through the real validator: defaults, and path-named problems. */
import t from 'tap';
import { validateConfig } from '../../src/config/validate.js';
import { problemsOf as problemsOfConfig } from '../helpers/config-problems.js';

const LISTENERS = { http: { host: '127.0.0.1', port: 0 } };
const route = (extra: Record<string, unknown> = {}) => ({ name: 'r', match: {}, auth: 'none', upstream: 'http://127.0.0.1:1', ...extra });
const POLICIES = { 'per-user': { key: 'sub', capacity: 20, refillPerSecond: 10 }, 'per-ip': { key: 'ip', capacity: 100, refillPerSecond: 50 } };

/** The problems of `doc` completed with the listeners and (when it has none) an empty route list. */
function problemsOf(doc: Record<string, unknown>): readonly string[] {
  // File order: routes last, as users write them.
  return problemsOfConfig({ listeners: LISTENERS, ...doc, routes: doc['routes'] ?? [] });
}

void t.test('the PRODUCT §3 example is valid, with defaults filled in', async (t) => {
  const cfg = validateConfig({
    listeners: LISTENERS,
    redis: { url: 'redis://127.0.0.1:6379', keyPrefix: 'portcullis:', commandTimeoutMs: 50 },
    rateLimits: { failMode: 'open', policies: POLICIES },
    routes: [route({ rateLimit: 'per-user' })],
  });
  t.same(cfg.redis, { url: 'redis://127.0.0.1:6379', keyPrefix: 'portcullis:', commandTimeoutMs: 50, tls: false, connectTimeoutMs: 2000 });
  t.same(cfg.rateLimits, { failMode: 'open', policies: POLICIES, localMaxBuckets: 100000 });
  t.equal(cfg.routes[0]!.rateLimit, 'per-user');
  const minimal = validateConfig({ listeners: LISTENERS, redis: { cluster: [{ host: 'r1', port: 7000 }] }, rateLimits: {}, routes: [] });
  t.same(minimal.redis, { cluster: [{ host: 'r1', port: 7000 }], tls: false, keyPrefix: 'portcullis:', commandTimeoutMs: 50, connectTimeoutMs: 2000 });
  t.same(minimal.rateLimits, { failMode: 'open', localMaxBuckets: 100000, policies: {} });
  t.same(validateConfig({ listeners: LISTENERS, routes: [] }).redis, undefined, 'no redis by default: in-process buckets');
});

void t.test('every key form is accepted', async (t) => {
  const policies = Object.fromEntries(['sub', 'ip', 'claim:tenant', 'claim:org.unit.id', 'header:X-Api-Key', 'header:x_client'].map((key, i) =>
    [`p${i}`, { key, capacity: 1, refillPerSecond: 0.5 }]));
  t.doesNotThrow(() => validateConfig({ listeners: LISTENERS, rateLimits: { policies }, routes: [] }));
});

void t.test('one deployment shape, named', async (t) => {
  t.same(problemsOf({ redis: {} }), ['redis: must set exactly one of url, sentinels or cluster (none is set)']);
  t.same(problemsOf({ redis: { url: 'redis://a:1', cluster: [{ host: 'b', port: 1 }] } }), [
    'redis: must set exactly one of url, sentinels or cluster (found url, cluster)',
  ]);
  t.same(problemsOf({ redis: { sentinels: [{ host: 's', port: 26379 }] } }), ['redis.name: is required with sentinels']);
  t.same(problemsOf({ redis: { url: 'redis://a:1', name: 'mymaster' } }), ['redis.name: is only used with sentinels']);
  t.same(problemsOf({ redis: { url: 'http://a:1' } }), ['redis.url: must be a redis:// or rediss:// URL']);
  t.same(problemsOf({ redis: { url: 'redis://a:1/?x=1' } }), ['redis.url: must not have a query or fragment']);
  t.same(problemsOf({ redis: { url: 'redis://a:1', keyPrefix: 'app{1}:', commandTimeoutMs: 0, extra: 1 } }), [
    'redis.keyPrefix: must not contain braces or whitespace',
    'redis.commandTimeoutMs: must be between 1 and 10000',
    'redis.extra: unknown key',
  ]);
  t.same(problemsOf({ redis: { cluster: [], url: 'redis://a:1' } }), [
    'redis: must set exactly one of url, sentinels or cluster (found url, cluster)',
    'redis.cluster: must not be empty',
  ]);
});

void t.test('policies and references', async (t) => {
  t.same(problemsOf({
    rateLimits: {
      failMode: 'maybe',
      policies: {
        'bad key': { key: 'sub', capacity: 1, refillPerSecond: 1 },
        a: { key: 'cookie:session', capacity: 0, refillPerSecond: 0 },
        b: { key: 'header:', capacity: 1.5 },
      },
    },
    routes: [route({ rateLimit: 'nope' })],
  }), [
    'rateLimits.failMode: must be one of open, closed',
    'rateLimits.policies["bad key"]: must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit',
    'rateLimits.policies.a.key: must be sub, ip, cert, claim:<dotted path> or header:<header name>',
    'rateLimits.policies.a.capacity: must be between 1 and 1000000000',
    'rateLimits.policies.a.refillPerSecond: must be between 0.001 and 1000000000',
    'rateLimits.policies.b.key: must be sub, ip, cert, claim:<dotted path> or header:<header name>',
    'rateLimits.policies.b.capacity: must be an integer',
    'rateLimits.policies.b.refillPerSecond: is required',
    'routes[0].rateLimit: unknown rate-limit policy "nope" (rateLimits.policies defines bad key, a, b)',
  ]);
  t.same(problemsOf({ routes: [route({ rateLimit: 'per-user' })] }), [
    'routes[0].rateLimit: unknown rate-limit policy "per-user" (rateLimits.policies defines none)',
  ]);
  t.same(problemsOf({ rateLimits: { policies: POLICIES }, routes: [route({ rateLimit: 'toString' })] }), [
    'routes[0].rateLimit: unknown rate-limit policy "toString" (rateLimits.policies defines per-user, per-ip)',
  ], 'inherited names are not policies');
});

void t.test('lease (issue 17): ttlMs defaults to 1000; bad leases are named by their key', async (t) => {
  const redis = { url: 'redis://127.0.0.1:6379' };
  const cfg = validateConfig({
    listeners: LISTENERS, redis,
    rateLimits: { policies: { leased: { key: 'ip', capacity: 100, refillPerSecond: 50, lease: { tokens: 10 } } } }, routes: [],
  });
  t.same(cfg.rateLimits?.policies['leased']?.lease, { tokens: 10, ttlMs: 1000 });
  const leased = (lease: unknown, capacity = 100) => ({ policies: { leased: { key: 'ip', capacity, refillPerSecond: 50, lease } } });
  t.match(problemsOf({ redis, rateLimits: leased({ tokens: 20 }, 10) }).join('\n'), /rateLimits\.policies\.leased\.lease\.tokens.*must not exceed the policy's capacity \(10\)/);
  t.match(problemsOf({ rateLimits: leased({ tokens: 10 }) }).join('\n'), /rateLimits\.policies\.leased\.lease.*needs `redis`/);
  t.match(problemsOf({ redis, rateLimits: leased({ tokens: 1 }) }).join('\n'), /rateLimits\.policies\.leased\.lease\.tokens/);
  t.match(problemsOf({ redis, rateLimits: leased({ tokens: 10, ttlMs: 5 }) }).join('\n'), /rateLimits\.policies\.leased\.lease\.ttlMs/);
  t.match(problemsOf({ redis, rateLimits: leased({ tokens: 10, size: 3 }) }).join('\n'), /rateLimits\.policies\.leased\.lease/);
  t.match(problemsOf({ redis, rateLimits: leased({}) }).join('\n'), /rateLimits\.policies\.leased\.lease.*tokens/);
});
