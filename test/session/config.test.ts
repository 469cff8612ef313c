/** The sign-in keys of the config: defaults, and a clear error naming the key path for each mistake. */
import t from 'tap';
import { loadConfigFile } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/validate.js';
import { problemsOf } from '../helpers/config-problems.js';

const LISTENERS = { http: { host: '127.0.0.1', port: 0 } };
const SECRET = 's'.repeat(32);
const client = (extra: Record<string, unknown> = {}) => ({ id: 'web', secret: 'x', redirectUri: 'https://app.example.com/.portcullis/callback', ...extra });
const doc = (o: { client?: Record<string, unknown> | null; sessions?: Record<string, unknown> | null; auth?: Record<string, unknown>; extra?: Record<string, unknown> } = {}) => ({
  listeners: LISTENERS,
  auth: { providers: [{ name: 'corp', issuer: 'https://idp.example.com', discovery: true, ...(o.client === null ? {} : { client: o.client ?? client() }) }] },
  ...(o.sessions === null ? {} : { sessions: o.sessions ?? { secrets: [SECRET] } }),
  routes: [{ name: 'app', match: {}, upstream: 'http://127.0.0.1:1', auth: o.auth ?? { login: 'corp' } }],
  ...o.extra,
});

void t.test('defaults', async (t) => {
  const cfg = validateConfig(doc());
  t.same(cfg.sessions, { secrets: [SECRET], cookieName: 'portcullis_session', ttlSec: 28800, idleTtlSec: 3600, store: 'cookie', allowedRedirectHosts: [], pathPrefix: '/.portcullis', refreshBeforeSec: 60 });
  t.same(cfg.auth!.providers[0]!.client, { ...client(), scopes: ['openid', 'profile', 'email'], usePkce: true });
});

void t.test('each mistake is named by its path', async (t) => {
  t.same(problemsOf(doc({ client: client({ usePkce: false }) })), ['auth.providers[0].client.usePkce: PKCE cannot be turned off: remove usePkce or set it to true']);
  t.same(problemsOf(doc({ client: client({ scopes: ['email'] }) })), ['auth.providers[0].client.scopes: must include openid']);
  t.same(problemsOf(doc({ client: client({ redirectUri: 'https://app.example.com/callback' }) })), ['auth.providers[0].client.redirectUri: must have the path /.portcullis/callback (sessions.pathPrefix + /callback)']);
  t.same(problemsOf(doc({ client: null })), ['routes[0].auth.login: provider "corp" must exist in auth.providers and have a client']);
  t.same(problemsOf(doc({ sessions: null })), ['auth.providers[0].client: needs the top-level sessions block', 'routes[0].auth.login: needs the top-level sessions block']);
  t.same(problemsOf(doc({ sessions: { secrets: ['short'] } })), ['sessions.secrets[0]: must be at least 32 characters long']);
  t.same(problemsOf(doc({ sessions: { secrets: [SECRET], store: 'redis' } })), ['sessions.store: "redis" needs the top-level redis block']);
  t.same(problemsOf(doc({ sessions: { secrets: [SECRET], ttlSec: 600, idleTtlSec: 3600 } })), ['sessions.idleTtlSec: must not exceed ttlSec (600)']);
  t.same(problemsOf(doc({ auth: { login: 'corp', providers: ['other'] } })).filter((p) => p.startsWith('routes[0].auth.login')), ['routes[0].auth.login: provider "corp" must be one of this route\'s auth.providers']);
  t.same(problemsOf(doc({ sessions: { secrets: [SECRET], allowedRedirectHosts: ['Evil.example/'] } })), ['sessions.allowedRedirectHosts[0]: must be a lowercase host name or *.wildcard']);
  t.same(problemsOf(doc({ sessions: { secrets: [SECRET], pathPrefix: '/auth/' } })), ['sessions.pathPrefix: must be a path such as /.portcullis (no trailing slash)']);
});

void t.test('the shipped config/nginx/sign-in.yaml loads', async (t) => {
  const cfg = await loadConfigFile('config/nginx/sign-in.yaml', {
    OIDC_ISSUER: 'https://idp.example.com/realms/corp', OIDC_CLIENT_ID: 'web', OIDC_CLIENT_SECRET: 'x', SESSION_SECRET: SECRET, APP_ORIGIN: 'https://app.example.com',
  });
  t.equal(cfg.routes[0]!.auth !== 'none' && cfg.routes[0]!.auth?.login, 'corp');
  t.equal(cfg.auth!.providers[0]!.client!.redirectUri, 'https://app.example.com/.portcullis/callback');
});
