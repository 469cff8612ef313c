/**
 * The cookie-name differential (issue 22 §7) through real sockets: the gateway and an upstream
 * that reads cookies with the `cookie` npm package (what Fastify, Express and others use) must
 * agree on which token cookie a request carries — or the gateway refuses the request.
 */
import t from 'tap';
import { parseCookie } from 'cookie';
import { request } from 'undici';
import { mintDevToken } from '../../src/auth/dev-token.js';
import { startGateway, type TestGateway, waitForSigningKeys } from '../helpers/gateway.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';

let up: RecordingUpstream;
let gw: TestGateway;
let alice: string;
let admin: string;
t.before(async () => {
  up = await startUpstream();
  gw = await startGateway({
    auth: {
      providers: [{ name: 'dev', issuer: 'portcullis-dev', jwksFile: 'config/dev-jwks.json', algorithms: ['ES256'] }],
      tokenSources: [{ header: 'authorization' }, { cookie: 'access_token' }],
    },
    routes: [
      { name: 'api', match: { path: '/api' }, upstream: up.url, identityHeaders: { 'X-User-Id': 'sub' } },
      { name: 'blind', match: { path: '/blind' }, upstream: up.url, forwardAuthorization: false },
      { name: 'open', match: { path: '/open' }, auth: 'none', upstream: up.url, forwardAuthorization: false },
    ],
  });
  await waitForSigningKeys(gw);
  alice = await mintDevToken({ sub: 'alice' });
  admin = await mintDevToken({ sub: 'admin' }); // stands for a forged token the upstream would not verify
});
t.teardown(async () => {
  await gw?.close();
  await up?.close();
});

const send = async (path: string, headers: Record<string, string>) => {
  const before = up.received.length;
  const res = await request(gw.url + path, { headers });
  const body = await res.body.text();
  const forwarded = up.received.length > before ? up.received.at(-1)! : null;
  return { status: res.statusCode, body, forwarded, id: res.headers['x-request-id'] };
};
/** What the upstream's cookie parser makes of the Cookie header it received. */
const upstreamCookies = (f: { headers: Record<string, string | string[] | undefined> } | null) =>
  f === null || typeof f.headers['cookie'] !== 'string' ? {} : { ...parseCookie(f.headers['cookie']) };

void t.test('a token cookie with a space before "=" is a token: the gateway sees what the upstream reads', async (t) => {
  const r = await send('/api/x', { authorization: `Bearer ${alice}`, cookie: `access_token =${admin}` });
  t.equal(r.status, 401, 'two different tokens (header and trimmed cookie): refused');
  t.equal(r.forwarded, null, 'nothing forwarded');
  const alone = await send('/api/x', { cookie: `access_token =${alice}` });
  t.equal(alone.status, 200, 'alone, the trimmed cookie is the token');
  t.equal(alone.forwarded?.headers['x-user-id'], 'alice');
  t.equal(upstreamCookies(alone.forwarded)['access_token'], alice, 'and the upstream reads the same token');
});

void t.test('a token cookie named twice or by an alias: 400 bad_request, JSON body, nothing forwarded', async (t) => {
  const cases = [
    `access_token =${admin}; access_token=${alice}`,
    `access_token=${alice}; access_token=${alice}`,
    `Access_Token=${admin}; access_token=${alice}`,
  ];
  for (const cookie of cases) {
    const r = await send('/api/x', { cookie });
    t.equal(r.status, 400, cookie.replace(/=[^;]+/g, '=…'));
    t.same(JSON.parse(r.body), { error: 'bad_request', requestId: r.id });
    t.equal(r.forwarded, null);
    t.match(gw.access().find((l) => l['requestId'] === r.id), { decision: 'bad_request', status: 400, route: 'api' });
  }
  const metrics = await gw.metrics.registry.metrics();
  t.match(metrics, /portcullis_auth_failures_total\{provider="",reason="ambiguous_cookie"\} 3\n/);
  // Two Cookie header fields are one list (Node joins them with "; ").
  const split = await send('/api/x', { cookie: [`access_token=${alice}`, `access_token =${admin}`] as unknown as string });
  t.equal(split.status, 400, 'across two Cookie headers');
});

void t.test('forwardAuthorization: false removes the token cookie in the spellings an upstream reads', async (t) => {
  const r = await send('/open/x', { cookie: `theme=dark; access_token =${admin}; Access_Token=${admin}; lang=en` });
  t.equal(r.status, 200);
  t.same(upstreamCookies(r.forwarded), { theme: 'dark', lang: 'en' }, 'no access_token for the upstream\'s parser');
  const verified = await send('/blind/x', { cookie: `theme=dark; access_token =${alice}` });
  t.equal(verified.status, 200);
  t.same(upstreamCookies(verified.forwarded), { theme: 'dark' }, 'the verified token cookie is removed too');
});
