import t from 'tap';
import { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/validate.js';
import { DEFAULT_STRIP_IDENTITY_HEADERS } from '../../src/config/schema.js';
import { problemsOf } from '../helpers/config-problems.js';

const LISTENERS = { http: { host: '127.0.0.1', port: 0 } };
const route = (extra: Record<string, unknown> = {}) => ({ name: 'r', match: {}, upstream: 'http://127.0.0.1:1', ...extra });
const withRoutes = (...routes: unknown[]) => ({ listeners: LISTENERS, routes });
const provider = (extra: Record<string, unknown> = {}) => ({ name: 'corp', issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/jwks', ...extra });

void t.test('defaults are filled in, deep-frozen, and the input is left alone', async (t) => {
  const doc = { listeners: LISTENERS, auth: { providers: [provider()] }, routes: [route({ upstream: { targets: ['http://a:1'] } })] };
  const before = JSON.stringify(doc);
  const cfg = validateConfig(doc);
  t.same(cfg, {
    server: {
      trustedProxies: [],
      stripIdentityHeaders: [...DEFAULT_STRIP_IDENTITY_HEADERS],
      limits: { maxBodyBytes: 1048576, maxHeaderBytes: 16384, headersTimeoutMs: 10000, requestTimeoutMs: 30000, keepAliveTimeoutMs: 5000,
        minBodyBytesPerSec: 240, minBodyRateGraceMs: 5000, maxInFlightPerClient: 128,
        http2: { maxConcurrentStreams: 128, maxTotalStreams: 8192, maxStreamsPerSecond: 1000, maxResetsPerWindow: 200, maxSessionMemoryMb: 10 } },
      shutdownGraceMs: 10000,
      workers: 1,
    },
    listeners: { http: { host: '127.0.0.1', port: 0, redirectToHttps: false } },
    auth: {
      providers: [{
        ...provider(), discovery: false, algorithms: ['RS256', 'ES256', 'EdDSA'], clockToleranceSec: 30,
        rolesClaim: 'realm_access.roles', scopesClaim: 'scope', jwksCooldownSec: 30,
      }],
      tokenSources: [{ header: 'authorization' }],
      maxTokenBytes: 8192,
      tokenCache: { maxEntries: 10000, maxTtlSec: 300 },
      bruteForce: { maxFailures: 0, windowSec: 60, blockSec: 300 },
      dpop: {
        algorithms: ['ES256', 'RS256', 'PS256', 'EdDSA'], proofMaxAgeSec: 60, clockToleranceSec: 5, keyCacheEntries: 10000,
        replayStore: 'auto', replayMaxEntries: 100000, nonce: { enabled: false, ttlSec: 300 },
      },
    },
    routes: [{
      name: 'r', match: {}, upstream: { targets: ['http://a:1'], timeoutMs: 30000, retries: 1 },
      allowCidrs: [], denyCidrs: [], identityHeaders: {}, requestHeaders: { set: {}, remove: [] },
      forwardAuthorization: true, websocket: false,
    }],
  });
  t.equal(JSON.stringify(doc), before, 'the argument is not modified');
  t.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.server.limits) && Object.isFrozen(cfg.routes[0]!.requestHeaders.remove));
  t.throws(() => (cfg.routes as unknown[]).push(route()), TypeError);
});

void t.test('server.stripIdentityHeaders: the well-known names by default, replaced when given, header names only', async (t) => {
  t.same(validateConfig(withRoutes()).server.stripIdentityHeaders, [
    'X-Forwarded-User', 'X-Forwarded-Email', 'X-Forwarded-Preferred-Username', 'X-Forwarded-Groups', 'X-Forwarded-Access-Token',
    'Remote-User', 'Remote-Email', 'Remote-Groups', 'Remote-Name', 'X-Remote-User', 'X-Auth-User', 'X-WEBAUTH-USER',
  ]);
  t.same(validateConfig({ ...withRoutes(), server: { stripIdentityHeaders: [] } }).server.stripIdentityHeaders, []);
  t.same(problemsOf({ ...withRoutes(), server: { stripIdentityHeaders: ['Remote User'] } }), [
    'server.stripIdentityHeaders[0]: must be a valid HTTP header name (RFC 7230 token characters)',
  ]);
  t.same(problemsOf({ ...withRoutes(), server: { stripIdentityHeaders: 'Remote-User' } }), ['server.stripIdentityHeaders: must be an array (a YAML list)']);
});

void t.test('the PRODUCT §3 example (the parts supported so far) is valid', async (t) => {
  const cfg = validateConfig({
    server: {
      trustedProxies: ['127.0.0.1/32', '10.0.0.0/8'],
      limits: { maxBodyBytes: 1048576, maxHeaderBytes: 16384, headersTimeoutMs: 10000, requestTimeoutMs: 30000, keepAliveTimeoutMs: 5000 },
      shutdownGraceMs: 10000,
    },
    listeners: {
      http: { host: '0.0.0.0', port: 8080, redirectToHttps: false },
      admin: { host: '127.0.0.1', port: 9090 },
    },
    auth: {
      providers: [{
        name: 'corp', issuer: 'https://idp.example.com/realms/corp', discovery: true, audiences: ['orders-api'],
        algorithms: ['RS256', 'ES256', 'EdDSA'], clockToleranceSec: 30, rolesClaim: 'realm_access.roles', scopesClaim: 'scope',
      }],
      tokenSources: [{ header: 'authorization' }, { cookie: 'access_token' }],
    },
    routes: [
      {
        name: 'orders',
        match: { hosts: ['api.example.com'], path: '/api/v1/orders', methods: ['GET', 'POST'] },
        upstream: 'http://orders.default.svc:8080',
        stripPrefix: '/api',
        auth: { providers: ['corp'], scopes: ['orders:read'], roles: [], claims: { tenant: 'acme' } },
        allowCidrs: [],
        denyCidrs: [],
        identityHeaders: { 'X-User-Id': 'sub', 'X-User-Email': 'email', 'X-User-Roles': 'realm_access.roles' },
        requestHeaders: { set: { 'X-Env': 'prod' }, remove: ['X-Debug'] },
        forwardAuthorization: true,
      },
      { name: 'public', match: { path: '/public' }, auth: 'none', upstream: 'http://web.default.svc:8080' },
    ],
  });
  t.equal(cfg.routes.length, 2);
  t.equal(cfg.routes[1]!.auth, 'none');
  t.equal(cfg.routes[0]!.websocket, false);
});

void t.test('four distinct mistakes give exactly four path-named problems, in file order', async (t) => {
  let err: unknown;
  try {
    validateConfig({
      listeners: { http: { host: '0.0.0.0', port: 99999 } },
      routes: [
        { name: 'a', match: { methods: ['get'] }, upstream: 'http://a:1' },
        { name: 'b', match: {}, upstream: 'ftp://b' },
        { name: 'c', matchx: {}, match: {}, upstream: 'http://c:1' },
      ],
    }, 'gw.yaml');
  } catch (e) {
    err = e;
  }
  t.type(err, ConfigError);
  const ce = err as ConfigError;
  t.equal(ce.code, 'PORTCULLIS_ERR_CONFIG');
  t.equal(ce.file, 'gw.yaml');
  t.same(ce.problems, [
    'listeners.http.port: must be between 0 and 65535',
    'routes[0].match.methods[0]: must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE, CONNECT',
    'routes[1].upstream: must be an http(s) URL',
    'routes[2].matchx: unknown key',
  ]);
  t.equal(ce.message, `invalid config gw.yaml:\n${ce.problems.map((p) => `  - ${p}`).join('\n')}`);
});

void t.test('waf and routes[].waf are known keys (issue 5; their rules are tested in test/waf/config.test.ts)', async (t) => {
  // redis, rateLimits and routes[].rateLimit (issue 4) are tested in test/ratelimit/config-check.test.ts.
  t.doesNotThrow(() => validateConfig({ waf: { mode: 'block' }, listeners: LISTENERS, routes: [route({ waf: 'block' })] }));
});

void t.test('structural messages', async (t) => {
  t.same(problemsOf(null), ['(root): must be an object (a YAML mapping)']);
  t.same(problemsOf({}), ['listeners: is required', 'routes: is required']);
  t.same(problemsOf({ listeners: {}, routes: [] }), ['listeners: must define at least one listener (http, https, auth, authGrpc, admin or demo)']);
  t.same(problemsOf({ listeners: { admin: { host: '', port: 1.5 } }, routes: {} }), [
    'listeners.admin.host: must not be empty',
    'listeners.admin.port: must be an integer',
    'routes: must be an array (a YAML list)',
  ]);
  t.same(problemsOf({ listeners: LISTENERS, routes: [{ match: {}, upstream: 'http://a:1' }] }), ['routes[0].name: is required']);
  t.same(problemsOf(withRoutes(route({ name: '-x' }), route({ name: 'x'.repeat(65) }), route({ name: '' }))), [
    'routes[0].name: must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit',
    'routes[1].name: must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit',
    'routes[2].name: must not be empty',
  ]);
  t.same(problemsOf({
    server: { limits: { maxHeaderBytes: 100, headersTimeoutMs: 0 }, shutdownGraceMs: -1, trustedProxies: '10.0.0.0/8' },
    listeners: LISTENERS, routes: [],
  }), [
    'server.limits.maxHeaderBytes: must be between 1024 and 1048576',
    'server.limits.headersTimeoutMs: must be between 1 and 600000',
    'server.shutdownGraceMs: must be between 0 and 600000',
    'server.trustedProxies: must be an array (a YAML list)',
  ]);
});

void t.test('unions give one message, or the specific one from inside the chosen form', async (t) => {
  const msg = 'must be an http(s) URL or { targets, timeoutMs, retries, tls }';
  t.same(problemsOf(withRoutes(route({ upstream: 5 }), route({ name: 'b', upstream: ['http://a:1'] }))), [
    `routes[0].upstream: ${msg}`,
    `routes[1].upstream: ${msg}`,
  ]);
  t.same(problemsOf(withRoutes(route({ upstream: { targets: [], timeoutMs: 0, retries: 11, pool: 3 } }))), [
    'routes[0].upstream.targets: must not be empty',
    'routes[0].upstream.timeoutMs: must be between 1 and 3600000',
    'routes[0].upstream.retries: must be between 0 and 10',
    'routes[0].upstream.pool: unknown key',
  ]);
  t.same(problemsOf(withRoutes(route({ upstream: {} }))), ['routes[0].upstream.targets: is required']);
  t.same(problemsOf(withRoutes(route({ auth: 'anonymous' }), route({ name: 'b', auth: true }))), [
    'routes[0].auth: must be "none" or { providers, scopes, roles, claims, clientCert, login, dpop }',
    'routes[1].auth: must be "none" or { providers, scopes, roles, claims, clientCert, login, dpop }',
  ]);
  t.same(problemsOf(withRoutes(route({ auth: { scope: ['x'], claims: { tenant: ['a'], 'a..b': 1 } } }))), [
    'routes[0].auth.scope: unknown key',
    'routes[0].auth.claims.tenant: must be a string, number or boolean',
    'routes[0].auth.claims["a..b"]: must be a claim name or dotted claim path such as realm_access.roles',
  ]);
  t.same(problemsOf({ listeners: LISTENERS, auth: { providers: [], tokenSources: [{ header: 'a', cookie: 'b' }, {}, { header: 'bad header' }] }, routes: [] }), [
    'auth.tokenSources[0]: must have exactly one of header or cookie',
    'auth.tokenSources[1]: must have exactly one of header or cookie',
    'auth.tokenSources[2].header: must be a valid HTTP header name (RFC 7230 token characters)',
  ]);
});

void t.test('route match, paths and headers', async (t) => {
  t.same(problemsOf(withRoutes(
    route({ match: { path: '/a', exactPath: '/b' } }),
    route({ name: 'b', match: { path: 'api', methods: ['GET', 'GET'] }, stripPrefix: 'api' }),
    route({ name: 'c', match: { exactPath: '/a/../b' }, stripPrefix: '/a//b' }),
  )), [
    'routes[0].match: must not set both path and exactPath',
    'routes[1].match.path: must start with "/"',
    'routes[1].match.methods: must not contain duplicates (items 0 and 1 are equal)',
    'routes[1].stripPrefix: must start with "/"',
    'routes[2].match.exactPath: must be a normalised path (no "//", "." or ".." segments, "?", "#", "\\" or whitespace)',
    'routes[2].stripPrefix: must be a normalised path (no "//", "." or ".." segments, "?", "#", "\\" or whitespace)',
  ]);
  t.same(problemsOf(withRoutes(route({
    match: { hosts: ['API.example.com', 'api.example.com:443', 'https://api.example.com', 'a_b.example.com', '*.example.com', 'example.com'] },
  }))), [
    'routes[0].match.hosts[0]: must be lowercase',
    'routes[0].match.hosts[1]: must be a host name without a port',
    'routes[0].match.hosts[2]: must be a host name, not a URL',
    'routes[0].match.hosts[3]: must be a DNS name or a *. wildcard such as *.example.com',
  ]);
  t.same(problemsOf(withRoutes(route({
    identityHeaders: { 'X-User': 'sub', 'x-user': 'email', 'X Bad': 'sub', Host: 'sub', 'X-Empty': '', 'X-Path': 'a..b' },
    requestHeaders: { set: { 'Transfer-Encoding': 'chunked', 'X-Env': 1 }, remove: ['ok', 'not ok'] },
  }))), [
    'routes[0].identityHeaders.x-user: duplicate header name (header names are case-insensitive)',
    'routes[0].identityHeaders["X Bad"]: must be a valid HTTP header name (RFC 7230 token characters)',
    'routes[0].identityHeaders.Host: is set by the gateway itself and cannot be an identity header',
    'routes[0].identityHeaders.X-Empty: must not be empty',
    'routes[0].identityHeaders.X-Path: must be a claim name or dotted claim path such as realm_access.roles',
    'routes[0].requestHeaders.set.Transfer-Encoding: is a hop-by-hop or framing header and cannot be set',
    'routes[0].requestHeaders.set.X-Env: must be a string',
    'routes[0].requestHeaders.remove[1]: must be a valid HTTP header name (RFC 7230 token characters)',
  ]);
});

void t.test('upstream URLs', async (t) => {
  const bad = ['ftp://a', 'not a url', 'http://user:pw@a:1', 'http://a:1/?x=1', 'http://a:1/#f', 'http://a:1/?'];
  t.same(problemsOf(withRoutes(route({ upstream: { targets: bad } }))), [
    'routes[0].upstream.targets[0]: must be an http(s) URL',
    'routes[0].upstream.targets[1]: must be an http(s) URL',
    'routes[0].upstream.targets[2]: must be an http(s) URL without credentials (use requestHeaders.set)',
    'routes[0].upstream.targets[3]: must be an http(s) URL without query or fragment',
    'routes[0].upstream.targets[4]: must be an http(s) URL without query or fragment',
    'routes[0].upstream.targets[5]: must be an http(s) URL without query or fragment',
  ]);
  for (const ok of ['http://a', 'https://a.example.com:8443/base', 'http://[::1]:8080', 'http://127.0.0.1:1']) {
    t.doesNotThrow(() => validateConfig(withRoutes(route({ upstream: ok }))), ok);
  }
});

void t.test('CIDRs', async (t) => {
  t.same(problemsOf({
    server: { trustedProxies: ['10.0.0.0/8', '::1', 'fd00::/8', '10.0.0.0/33', 'localhost'] },
    listeners: LISTENERS,
    routes: [route({ allowCidrs: ['1.2.3.4', '1.2.3.4/'], denyCidrs: ['::/129', '192.168.0.0/16'] })],
  }), [
    'server.trustedProxies[3]: must be an IP address or CIDR block such as 10.0.0.0/8 or fd00::/8',
    'server.trustedProxies[4]: must be an IP address or CIDR block such as 10.0.0.0/8 or fd00::/8',
    'routes[0].allowCidrs[1]: must be an IP address or CIDR block such as 10.0.0.0/8 or fd00::/8',
    'routes[0].denyCidrs[0]: must be an IP address or CIDR block such as 10.0.0.0/8 or fd00::/8',
  ]);
});

void t.test('names are unique and provider references resolve', async (t) => {
  t.same(problemsOf({
    listeners: LISTENERS,
    auth: { providers: [provider(), provider({ issuer: 'https://other.example.com' }), provider({ name: 'b' })] },
    routes: [route({ auth: { providers: ['corp', 'x'] } }), route()],
  }), [
    'auth.providers[1].name: duplicate provider name "corp" (also auth.providers[0])',
    'auth.providers[2].issuer: duplicate issuer (also auth.providers[0])',
    'routes[0].auth.providers[1]: unknown provider "x"',
    'routes[1].name: duplicate route name "r" (also routes[0])',
  ]);
  t.same(problemsOf(withRoutes(route({ auth: { providers: ['corp'] } }))), ['routes[0].auth.providers[0]: unknown provider "corp"']);
  // No provider at all: a token-requiring route is valid; it will simply deny.
  t.doesNotThrow(() => validateConfig(withRoutes(route(), route({ name: 'b', auth: {} }))));
});

void t.test('providers: exactly one key source; secrets only with HS*', async (t) => {
  const secret = 's'.repeat(32);
  t.same(problemsOf({
    listeners: LISTENERS,
    auth: {
      providers: [
        { name: 'p0', issuer: 'a' },
        provider({ name: 'p1', issuer: 'b', jwksFile: 'jwks.json' }),
        { name: 'p2', issuer: 'c', secret },
        { name: 'p3', issuer: 'd', secret, algorithms: ['HS256', 'RS256'] },
        { name: 'p4', issuer: 'e', jwksUri: 'https://e/jwks', algorithms: ['HS512'] },
        { name: 'p5', issuer: 'f', secret: 'short', algorithms: ['HS256', 'none'] },
        { name: 'p6', issuer: 'not-a-url', discovery: true },
        { name: 'p7', issuer: 'https://', jwksUri: 'file:///etc/jwks' },
      ],
    },
    routes: [],
  }), [
    'auth.providers[0]: must set exactly one of discovery: true, jwksUri, jwksFile or secret (none is set)',
    'auth.providers[1]: must set exactly one of discovery: true, jwksUri, jwksFile or secret (found jwksUri, jwksFile)',
    'auth.providers[2].algorithms: must list only HS256, HS384 or HS512 when secret is set',
    'auth.providers[3].algorithms: must list only HS256, HS384 or HS512 when secret is set',
    'auth.providers[4].algorithms: HS256, HS384 and HS512 require secret',
    'auth.providers[5].secret: must be at least 32 characters long',
    'auth.providers[5].algorithms[1]: must be one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, HS256, HS384, HS512',
    'auth.providers[6].issuer: must be an http(s) URL when discovery is true',
    'auth.providers[7].issuer: must be a valid URL',
    'auth.providers[7].jwksUri: must be an http(s) URL',
  ]);
  const cfg = validateConfig({
    listeners: LISTENERS,
    auth: { providers: [{ name: 'dev', issuer: 'portcullis-dev', secret, algorithms: ['HS256'] }] },
    routes: [],
  });
  t.equal(cfg.auth?.providers[0]?.issuer, 'portcullis-dev', 'an issuer need not be a URL');
});

void t.test('listeners may not share a host:port (port 0 excepted)', async (t) => {
  t.same(problemsOf({
    listeners: {
      http: { host: '0.0.0.0', port: 8080 },
      admin: { host: '127.0.0.1', port: 8080 },
      demo: { host: '127.0.0.1', port: 8080 },
    },
    routes: [],
  }), [
    'listeners.admin.port: 127.0.0.1:8080 clashes with listeners.http (0.0.0.0:8080)',
    'listeners.demo.port: 127.0.0.1:8080 clashes with listeners.http (0.0.0.0:8080)',
  ]);
  t.doesNotThrow(() => validateConfig({
    listeners: { http: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, demo: { host: '127.0.0.2', port: 8080 } },
    routes: [],
  }));
});

void t.test('cross-field limits', async (t) => {
  t.same(problemsOf({ server: { limits: { headersTimeoutMs: 60000 } }, listeners: LISTENERS, routes: [] }), [
    'server.limits.headersTimeoutMs: must not exceed requestTimeoutMs (30000)',
  ]);
});

void t.test('a wildly wrong document yields a bounded list', async (t) => {
  const routes = Array.from({ length: 200 }, () => ({ nme: 1 }));
  const problems = problemsOf({ listeners: LISTENERS, routes });
  t.equal(problems.length, 51);
  t.equal(problems.at(-1), '… and 550 more problems');
});
