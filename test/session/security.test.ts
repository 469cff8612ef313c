/**
 * Sign-in's security rules against a real OP, each with its test: `rd` refused at the endpoint,
 * state bound to the browser and single-use (callback replay refused), session fixation
 * impossible, sign-out CSRF, and no code, token or session in logs or error bodies.
 */
import t from 'tap';
import { CookieClient, type Hop } from '../helpers/cookie-client.js';
import { startBed, type Bed } from './fixture.js';

let bed: Bed;
t.before(async () => {
  bed = await startBed({ op: { postLogoutRedirectUris: [] } });
});
t.teardown(() => bed.close());

/** Runs the flow up to (not including) the callback; returns its URL and the hops. */
async function upToCallback(c: CookieClient, path = '/page'): Promise<{ callback: string; hops: Hop[] }> {
  const hops: Hop[] = [];
  let next: string | null = `${bed.base}${path}`;
  while (next !== null && !next.startsWith(`${bed.base}/.portcullis/callback`) && hops.length < 12) {
    const hop = await c.send(next);
    hops.push(hop);
    next = hop.location;
  }
  if (next === null) throw new Error('the flow never reached the callback');
  return { callback: next, hops };
}

void t.test('sign-in refuses an rd outside the allowlist with 400, before any flow starts', async (t) => {
  const c = new CookieClient();
  for (const rd of ['//evil.example/', '/\\evil.example', 'https:evil.example', 'https://user@127.0.0.1/', 'https://evil.example/', '%2f%2fevil.example']) {
    const res = await c.send(`${bed.base}/.portcullis/sign-in?rd=${encodeURIComponent(rd)}`);
    t.equal(res.status, 400, rd);
    t.equal(JSON.parse(res.body).error, 'invalid_redirect');
    t.equal(res.setCookies.length, 0, 'no flow cookie');
  }
  const twice = await c.send(`${bed.base}/.portcullis/sign-in?rd=/a&rd=/b`);
  t.equal(twice.status, 400, 'two rd values: which one? refused');
  const ok = await c.send(`${bed.base}/.portcullis/sign-in?rd=${encodeURIComponent('http://127.0.0.1/x')}`);
  t.equal(ok.status, 302, 'the request\'s own host is allowed');
});

void t.test('the callback needs this browser\'s flow cookie, and works once', async (t) => {
  const c = new CookieClient();
  const { callback } = await upToCallback(c);
  const stranger = new CookieClient();
  const elsewhere = await stranger.send(callback);
  t.equal(elsewhere.status, 400, 'the callback URL in another browser');
  t.equal(JSON.parse(elsewhere.body).error, 'invalid_state');

  const saved = new Map(c.cookies(bed.base));
  const first = await c.send(callback);
  t.equal(first.status, 302);
  t.equal(first.location, `${bed.base}/page`);
  // Replay: the same URL with the flow cookie as it was before (an attacker who copied both).
  const replayer = new CookieClient();
  for (const [k, v] of saved) replayer.cookies(bed.base).set(k, v);
  const replay = await replayer.send(callback);
  t.equal(replay.status, 400, 'callback replay refused');
  t.equal(JSON.parse(replay.body).error, 'invalid_state');
  t.equal(replay.setCookies.filter((s) => s.startsWith('portcullis_session=') && !/Max-Age=0/.test(s)).length, 0, 'no session for the replayer');
  t.equal(bed.op.tokenRequests.filter((r) => r.grantType === 'authorization_code').length >= 1, true);
});

void t.test('a state other than the cookie\'s is refused', async (t) => {
  const c = new CookieClient();
  const { callback } = await upToCallback(c);
  const url = new URL(callback);
  url.searchParams.set('state', 'A'.repeat(43));
  const res = await c.send(url.href);
  t.equal(res.status, 400);
});

void t.test('sign-in gives a new session every time: no fixation', async (t) => {
  const c = new CookieClient();
  c.cookies(bed.base).set('portcullis_session', 'planted-by-an-attacker');
  await c.follow(`${bed.base}/page`);
  const firstSession = c.cookies(bed.base).get('portcullis_session');
  t.ok(firstSession !== undefined && firstSession !== 'planted-by-an-attacker', 'the planted value is replaced');
  await c.follow(`${bed.base}/.portcullis/sign-in?rd=/again`);
  const second = c.cookies(bed.base).get('portcullis_session');
  t.not(second, firstSession, 'signing in again issues another session');
});

void t.test('sign-out: GET only asks, POST needs the CSRF token or this origin', async (t) => {
  const c = new CookieClient();
  await c.follow(`${bed.base}/page`);
  t.ok(c.cookies(bed.base).has('portcullis_session'));
  const ask = await c.send(`${bed.base}/.portcullis/sign-out`);
  t.equal(ask.status, 200, 'a confirmation page');
  t.equal(ask.setCookies.length, 0, 'a GET ends nothing');
  t.match(String(ask.headers['content-security-policy']), /default-src 'none'; frame-ancestors 'none'/);
  const token = /name="csrf" value="([^"]+)"/.exec(ask.body)?.[1];
  t.ok(token, 'the form carries a token');

  const forged = await c.send(`${bed.base}/.portcullis/sign-out`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=forged' });
  t.equal(forged.status, 403, 'wrong token');
  const crossSite = await c.send(`${bed.base}/.portcullis/sign-out`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: '' });
  t.equal(crossSite.status, 403, 'another origin, no token');
  t.equal((await c.send(`${bed.base}/page`)).status, 200, 'still signed in');

  const out = await c.send(`${bed.base}/.portcullis/sign-out`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${token}` });
  t.equal(out.status, 302);
  const end = new URL(out.location!);
  t.equal(end.origin + end.pathname, `${bed.op.issuer}/session/end`, 'to the provider\'s end_session_endpoint');
  t.ok(end.searchParams.get('id_token_hint'), 'with id_token_hint');
  t.equal(end.searchParams.get('client_id'), bed.op.clientId);
  t.notOk(c.cookies(bed.base).has('portcullis_session'), 'the session cookie is cleared');
  t.equal((await c.send(`${bed.base}/page`)).status, 302, 'signed out: sent to sign in again');

  const c2 = new CookieClient();
  await c2.follow(`${bed.base}/page`);
  const sameOrigin = await c2.send(`${bed.base}/.portcullis/sign-out`, { method: 'POST', headers: { origin: bed.base }, body: '' });
  t.equal(sameOrigin.status, 302, 'a form of this origin needs no token');
});

void t.test('no code, token or session in logs or error bodies', async (t) => {
  const c = new CookieClient();
  const { callback } = await upToCallback(c);
  const code = new URL(callback).searchParams.get('code')!;
  await c.send(callback);
  const session = c.cookies(bed.base).get('portcullis_session')!;
  const failed = await c.send(callback); // a replay: the error body
  t.equal(failed.status, 400);
  t.notOk(failed.body.includes(code), 'the error body does not echo the code');
  const logs = JSON.stringify(bed.gateway.logs);
  t.notOk(logs.includes(code), 'code not logged');
  t.notOk(logs.includes(session.slice(0, 40)), 'session not logged');
  t.notOk(logs.includes(bed.op.clientSecret), 'client secret not logged');
  t.notOk(logs.includes('eyJ'), 'no JWT or JWE in the logs');
  t.ok(bed.gateway.access().some((l) => l['path'] === '/.portcullis/callback' && l['sub'] === 'alice'), 'the callback is access-logged with its sub');
});
