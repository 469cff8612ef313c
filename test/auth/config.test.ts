/** The auth keys of the config: defaults, bounds, and the semantic rules added for issue 3. */
import t from 'tap';
import { validateConfig } from '../../src/config/validate.js';
import { problemsOf } from '../helpers/config-problems.js';

const LISTENERS = { http: { host: '127.0.0.1', port: 0 } };
const route = (extra: Record<string, unknown> = {}) => ({ name: 'r', match: {}, upstream: 'http://127.0.0.1:1', ...extra });

void t.test('tuning keys have defaults and bounds', async (t) => {
  const cfg = validateConfig({ listeners: LISTENERS, auth: { providers: [], tokenCache: { maxEntries: 0 } }, routes: [] });
  t.same(cfg.auth!.tokenCache, { maxEntries: 0, maxTtlSec: 300 });
  t.same(cfg.auth!.bruteForce, { maxFailures: 0, windowSec: 60, blockSec: 300 }, 'the brake is opt-in');
  t.equal(cfg.auth!.maxTokenBytes, 8192);
  t.same(problemsOf({
    listeners: LISTENERS,
    auth: { providers: [], maxTokenBytes: 100, tokenCache: { maxEntries: -1, ttl: 5 }, bruteForce: { windowSec: 0 } },
    routes: [],
  }), [
    'auth.maxTokenBytes: must be between 1024 and 65536',
    'auth.tokenCache.maxEntries: must be between 0 and 1000000',
    'auth.tokenCache.ttl: unknown key',
    'auth.bruteForce.windowSec: must be between 1 and 86400',
  ]);
});

void t.test('HMAC secrets at least as long as the hash (RFC 7518 §3.2)', async (t) => {
  const p = (secret: string, algorithms: string[]) => ({ listeners: LISTENERS, auth: { providers: [{ name: 'h', issuer: 'h', secret, algorithms }] }, routes: [] });
  t.same(problemsOf(p('s'.repeat(40), ['HS256', 'HS384', 'HS512'])), ['auth.providers[0].secret: must be at least 64 bytes for HS384, HS512']);
  t.doesNotThrow(() => validateConfig(p('s'.repeat(40), ['HS256'])));
  t.doesNotThrow(() => validateConfig(p('s'.repeat(64), ['HS512'])));
});

void t.test('required scopes must be RFC 6749 scope tokens', async (t) => {
  const doc = (scopes: string[]) => ({ listeners: LISTENERS, routes: [route({ auth: { scopes } })] });
  t.same(problemsOf(doc(['orders:read', 'two words', 'quo"te', 'back\\slash'])), [
    'routes[0].auth.scopes[1]: must be a scope token (RFC 6749 §3.3: visible ASCII without spaces, quotes or backslashes)',
    'routes[0].auth.scopes[2]: must be a scope token (RFC 6749 §3.3: visible ASCII without spaces, quotes or backslashes)',
    'routes[0].auth.scopes[3]: must be a scope token (RFC 6749 §3.3: visible ASCII without spaces, quotes or backslashes)',
  ]);
  t.doesNotThrow(() => validateConfig(doc(['orders:read', 'https://api.example.com/x.write', 'a!#$%&'])));
});

void t.test('requireTyp and introspection (issue 14): defaults, and errors that name the key', async (t) => {
  const provider = (extra: Record<string, unknown>) => ({ name: 'p', issuer: 'https://as.example', jwksUri: 'https://as.example/jwks', ...extra });
  const doc = (extra: Record<string, unknown>) => ({ listeners: LISTENERS, auth: { providers: [provider(extra)] }, routes: [] });
  const cfg = validateConfig(doc({ requireTyp: 'application/at+jwt', introspection: { endpoint: 'https://as.example/introspect', clientId: 'gw', clientSecret: 'x' } }));
  t.equal(cfg.auth!.providers[0]!.requireTyp, 'application/at+jwt');
  t.same(cfg.auth!.providers[0]!.introspection, {
    endpoint: 'https://as.example/introspect', clientId: 'gw', clientSecret: 'x',
    authMethod: 'client_secret_basic', tokens: 'opaque', timeoutMs: 2000, maxEntries: 10000, maxTtlSec: 300, negativeTtlSec: 10,
  });
  t.same(problemsOf(doc({ requireTyp: 'at jwt', introspection: { clientId: 'gw', clientSecret: 'x', authMethod: 'private_key_jwt', timeoutMs: 0 } })), [
    'auth.providers[0].requireTyp: must be a media type such as at+jwt or application/at+jwt',
    'auth.providers[0].introspection.authMethod: must be one of client_secret_basic, client_secret_post',
    'auth.providers[0].introspection.timeoutMs: must be between 100 and 30000',
    'auth.providers[0].introspection.endpoint: is required unless discovery is true (then the discovery document\'s introspection_endpoint is used)',
  ]);
  t.same(problemsOf(doc({ introspection: { endpoint: 'ftp://as.example/x', clientId: 'gw' } })), [
    'auth.providers[0].introspection.endpoint: must be an http(s) URL',
    'auth.providers[0].introspection.clientSecret: is required',
  ]);
  t.same(problemsOf(doc({ introspection: { endpoint: 'https://user:pw@as.example/x', clientId: 'gw', clientSecret: 'x' } })).length, 1, 'credentials in the URL are refused');
  t.doesNotThrow(() => validateConfig({
    listeners: LISTENERS,
    auth: { providers: [{ name: 'p', issuer: 'https://as.example', discovery: true, introspection: { clientId: 'gw', clientSecret: 'x' } }] },
    routes: [],
  }), 'with discovery the endpoint may be omitted');
});
