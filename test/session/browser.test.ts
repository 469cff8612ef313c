/**
 * The whole thing as a person meets it: a real headless browser (Debian's chromium, driven by
 * playwright-core) opens a protected page, is sent to the real OP (oidc-provider), signs in
 * (the test interaction logs the test user in without a form), lands back on the page with the
 * upstream seeing X-User-Email, stays signed in across a gateway restart (Redis store), has its
 * tokens refreshed, and signs out — at the gateway and, through end_session_endpoint, at the OP.
 * One browser for the file; skipped where chromium is not installed (.ci/run installs it).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { chromium, type BrowserContext } from 'playwright-core';
import { TEST_USER } from '../helpers/op.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startBed, type Bed } from './fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

if (!existsSync(CHROMIUM)) {
  t.plan(0, 'chromium is not installed (.ci/run installs it: apt-get install chromium)');
} else {
  let redis: RedisServer;
  let bed: Bed;
  let profile: string;
  let browser: BrowserContext;
  t.before(async () => {
    redis = await startRedis();
    bed = await startBed({
      accessTokenTtlSec: 30, // refreshed 60 s before expiry: on every request
      sessions: { store: 'redis' },
      extra: { redis: { url: redis.url, commandTimeoutMs: 500 } },
    });
    profile = await mkdtemp(join(tmpdir(), 'portcullis-chromium-'));
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 30_000 });
  });
  t.teardown(async () => {
    await browser?.close();
    await bed?.close();
    await redis?.stop();
    if (profile !== undefined) await rm(profile, { recursive: true, force: true });
  });

  void t.test('sign in, survive a restart, refresh, sign out', async (t) => {
    const page = await browser.newPage();
    const visited: string[] = [];
    page.on('request', (r) => { if (r.isNavigationRequest()) visited.push(r.url()); });

    const res = await page.goto(`${bed.base}/reports/q3?view=chart`, { timeout: 20_000 });
    t.equal(res?.status(), 200, 'the page, after signing in');
    t.equal(page.url(), `${bed.base}/reports/q3?view=chart`, 'back where the user started');
    t.ok(visited.some((u) => u.startsWith(`${bed.op.issuer}/auth?`)), 'the browser went to the provider');
    t.ok(visited.some((u) => u.startsWith(`${bed.base}/.portcullis/callback?`)), 'and came back through the callback');
    t.equal(bed.upstream.received.at(-1)!.headers['x-user-email'], TEST_USER.email, 'the upstream sees X-User-Email');
    const cookies = await browser.cookies(bed.base);
    const session = cookies.find((c) => c.name === 'portcullis_session');
    t.ok(session?.httpOnly, 'HttpOnly');
    t.equal(session?.sameSite, 'Lax');

    await bed.restart();
    const before = bed.op.tokenRequests.filter((r) => r.grantType === 'refresh_token' && r.status === 200).length;
    const again = await page.goto(`${bed.base}/reports/q4`);
    t.equal(again?.status(), 200, 'still signed in after a gateway restart');
    t.equal(page.url(), `${bed.base}/reports/q4`, 'no detour through the provider');
    t.equal(bed.upstream.received.at(-1)!.headers['x-user-email'], TEST_USER.email);
    t.ok(bed.op.tokenRequests.filter((r) => r.grantType === 'refresh_token' && r.status === 200).length > before, 'tokens refreshed before expiry');

    await page.goto(`${bed.base}/.portcullis/sign-out`);
    await page.click('#sign-out');
    await page.waitForSelector('#op-signed-out', { timeout: 20_000 });
    t.ok(visited.some((u) => u.startsWith(`${bed.op.issuer}/session/end?`)), 'through the provider\'s end_session_endpoint');
    t.equal(bed.op.endSessions.count, 1, 'the provider ended its session too (end_session_endpoint)');
    t.notOk((await browser.cookies(bed.base)).some((c) => c.name === 'portcullis_session'), 'the session cookie is gone');
    const received = bed.upstream.received.length;
    const after = await browser.request.get(`${bed.base}/reports/q4`, { maxRedirects: 0, headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate' } });
    t.equal(after.status(), 302, 'signed out: sent to sign in again');
    t.equal(bed.upstream.received.length, received, 'nothing reached the upstream');
    await page.close();
  });
}
