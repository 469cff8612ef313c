/**
 * The config schema fragments of rate limiting (PRODUCT §3 `redis`, `rateLimits`, route
 * `rateLimit`), owned here and spliced into config/schema.ts as Envoy's per-filter protos are.
 * The descriptions are the config reference (docs/rate-limiting.md tells the longer story).
 */

const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
const NAME_MESSAGE = 'must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit';
/** sub | ip | cert | claim:<dotted path> | header:<RFC 7230 token>. */
const KEY_PATTERN = "^(sub|ip|cert|claim:[^.\\s]+(\\.[^.\\s]+)*|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+)$";

const hostPort = (description: string) => ({
  type: 'object',
  description,
  additionalProperties: false,
  required: ['host', 'port'],
  properties: {
    host: { type: 'string', description: 'Host name or IP address of the node.', minLength: 1, maxLength: 253 },
    port: { type: 'integer', description: 'TCP port of the node.', minimum: 1, maximum: 65535 },
  },
});

export const REDIS_SCHEMA = {
  type: 'object',
  description:
    'Where rate-limit buckets are shared between gateway instances. Absent: buckets live in each process (single instance). ' +
    'Set exactly one of url (one server), sentinels + name (Redis Sentinel) or cluster (Redis Cluster).',
  additionalProperties: false,
  properties: {
    url: {
      type: 'string',
      description: 'One Redis server: redis://[user:password@]host:port[/db], or rediss://… for TLS.',
      pattern: '^rediss?://',
      maxLength: 2048,
      errorMessage: 'must be a redis:// or rediss:// URL',
    },
    sentinels: {
      type: 'array',
      description: 'Redis Sentinel: the sentinels to ask for the current master of `name`; failover is followed automatically.',
      items: hostPort('One sentinel.'),
      minItems: 1,
      maxItems: 16,
    },
    name: {
      type: 'string',
      description: 'Sentinel only: the master group name the sentinels monitor (`sentinel monitor <name> …`).',
      pattern: NAME_PATTERN,
      errorMessage: NAME_MESSAGE,
    },
    cluster: {
      type: 'array',
      description: 'Redis Cluster: seed nodes; the rest of the cluster and its slot map are discovered from them. Each bucket is one key, so any slot layout works.',
      items: hostPort('One seed node.'),
      minItems: 1,
      maxItems: 64,
    },
    username: { type: 'string', description: 'ACL user for sentinels+name and cluster nodes (put credentials in the URL for url). Prefer ${ENV} interpolation.', minLength: 1 },
    password: { type: 'string', description: 'Password for sentinels+name and cluster nodes (put credentials in the URL for url). Prefer ${ENV} interpolation.', minLength: 1 },
    tls: { type: 'boolean', description: 'Use TLS to the sentinel-announced master or the cluster nodes (url: use rediss://). Default: false.', default: false },
    keyPrefix: {
      type: 'string',
      description: 'Prefix of every key the gateway writes (buckets are <keyPrefix>rl:{<policy>:…}). No braces: they would change the Cluster hash slot. Default: "portcullis:".',
      pattern: '^[^{}\\s]*$',
      maxLength: 64,
      errorMessage: 'must not contain braces or whitespace',
      default: 'portcullis:',
    },
    commandTimeoutMs: {
      type: 'integer',
      description: 'Deadline of every Redis call, in milliseconds; past it the request is decided by rateLimits.failMode. Default: 50.',
      minimum: 1,
      maximum: 10000,
      default: 50,
    },
    connectTimeoutMs: {
      type: 'integer',
      description: 'Deadline of each connection attempt, in milliseconds (reconnects back off up to 1 s between attempts). Default: 2000.',
      minimum: 10,
      maximum: 60000,
      default: 2000,
    },
  },
};

const policy = {
  type: 'object',
  description: 'One token bucket per client key: `capacity` requests at once, refilled continuously at `refillPerSecond`.',
  additionalProperties: false,
  required: ['key', 'capacity', 'refillPerSecond'],
  properties: {
    key: {
      type: 'string',
      description:
        'What identifies a client: sub (token subject), ip (trusted client address), cert (subject of the verified TLS client certificate), ' +
        'claim:<dotted path> (a token claim), header:<name> (a request header). When the value is missing (no token, no certificate, no such claim or header) the client address is used.',
      pattern: KEY_PATTERN,
      errorMessage: 'must be sub, ip, cert, claim:<dotted path> or header:<header name>',
    },
    capacity: { type: 'integer', description: 'Bucket size: the burst a client may send at once (a new bucket starts full).', minimum: 1, maximum: 1000000000 },
    refillPerSecond: { type: 'number', description: 'Tokens added per second, continuously (0.5 = one every 2 s): the sustained rate.', minimum: 0.001, maximum: 1000000000 },
    lease: {
      type: 'object',
      description:
        'Opt-in bounded local lease (needs `redis`; absent: exact mode, one Redis call per request). Each gateway process takes up to `tokens` ' +
        'tokens of a client\'s bucket in one Redis call and spends them without asking Redis again, for at most `ttlMs`; unspent tokens go back ' +
        'to the bucket when the lease expires or the process stops. Over any interval, N processes admit at most N × (tokens − 1) more than ' +
        'the exact mode would (docs/rate-limiting.md "Local lease").',
      additionalProperties: false,
      required: ['tokens'],
      properties: {
        tokens: { type: 'integer', description: 'Tokens per lease, at most the policy\'s capacity: the Redis calls saved per request and the over-admission bound per process.', minimum: 2, maximum: 10000 },
        ttlMs: { type: 'integer', description: 'Milliseconds a lease may be spent before its unspent tokens are refunded. Default: 1000.', minimum: 10, maximum: 60000, default: 1000 },
      },
    },
  },
};

export const RATE_LIMITS_SCHEMA = {
  type: 'object',
  description: 'Token-bucket rate-limit policies, referenced by routes[].rateLimit (PRODUCT §1.9). Shared through `redis` when it is set.',
  additionalProperties: false,
  properties: {
    failMode: {
      type: 'string',
      description: 'When Redis cannot answer within commandTimeoutMs: open = decide with in-process buckets, closed = answer 503. Default: open.',
      enum: ['open', 'closed'],
      default: 'open',
    },
    localMaxBuckets: {
      type: 'integer',
      description: 'Most in-process buckets kept (all policies together); past it the least recently used go. Bounds memory (about 250 bytes each). Default: 100000.',
      minimum: 100,
      maximum: 10000000,
      default: 100000,
    },
    policies: {
      type: 'object',
      description: 'Policies by name: { per-user: { key: sub, capacity: 20, refillPerSecond: 10 } }. Default: {}.',
      maxProperties: 256,
      default: {},
      propertyNames: { pattern: NAME_PATTERN, errorMessage: NAME_MESSAGE },
      additionalProperties: policy,
    },
  },
};

export const ROUTE_RATE_LIMIT_SCHEMA = {
  type: 'string',
  description: 'Name of a rateLimits.policies entry applied to this route, after auth (429 with Retry-After when exceeded). Absent: not limited.',
  pattern: NAME_PATTERN,
  errorMessage: NAME_MESSAGE,
};
