/**
 * The shipped config/nginx/nginx.conf's auth cache and its outage paths, with real NGINX:
 * - by default every Portcullis answer is no-store, so NGINX asks every time;
 * - with listeners.auth.cacheMaxAgeSec, NGINX keeps an allow of a token-only route, for that
 *   token only, and never the allow of a rate-limited route;
 * - Portcullis unreachable, or answering 503 (keys not loaded): the client gets 503, never the backend.
 */
import t from 'tap';
import { request } from 'undici';
import { findNginx, startNginx } from '../helpers/nginx.js';
import { freePort } from '../helpers/ports.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { eventually } from '../helpers/gateway.js';
import { shippedDoc, shippedDocCacheableAdmin, startAuthGateway, token, type AuthGateway } from './fixture.js';

const get = async (url: string, headers: Record<string, string> = {}) => {
  const res = await request(url, { headers });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
};

/** Decisions Portcullis logged for `sub` on `route`, after giving late lines time to arrive. */
async function decisions(pc: AuthGateway, route: string, sub: string | null, atLeast: number): Promise<number> {
  const count = (): number => pc.gw.access().filter((l) => l['route'] === route && l['sub'] === sub).length;
  await eventually(() => count() >= atLeast, 1_000);
  await new Promise((r) => setTimeout(r, 100));
  return count();
}

if (findNginx() === null) {
  if (process.env['CI']) t.fail('nginx is not installed');
  else t.plan(0, 'nginx is not installed (apt-get install nginx)');
} else {
  let backend: RecordingUpstream;
  t.before(async () => { backend = await startUpstream(); });
  t.teardown(async () => { await backend?.close(); });

  void t.test('default: no-store, so NGINX asks Portcullis about every request', async (t) => {
    const pc = await startAuthGateway(await shippedDoc());
    const ngx = await startNginx({ auth: pc.port, backend: backend.port });
    t.teardown(async () => { await ngx.close(); await pc.close(); });
    const auth = { authorization: `Bearer ${await token('gina', { scope: 'admin' })}` };
    t.equal((await get(ngx.url + '/admin/x', auth)).status, 200);
    t.equal((await get(ngx.url + '/admin/x', auth)).status, 200);
    t.equal(await decisions(pc, 'admin', 'gina', 2), 2);
  });

  void t.test('cacheMaxAgeSec: one allow per token is kept; other tokens and limited routes are asked', async (t) => {
    const pc = await startAuthGateway(await shippedDocCacheableAdmin(), { cacheMaxAgeSec: 30 });
    const ngx = await startNginx({ auth: pc.port, backend: backend.port });
    t.teardown(async () => { await ngx.close(); await pc.close(); });
    const gina = { authorization: `Bearer ${await token('gina', { scope: 'admin' })}` };
    const before = backend.received.length;
    t.equal((await get(ngx.url + '/admin/x', gina)).status, 200);
    t.equal((await get(ngx.url + '/admin/x', gina)).status, 200);
    t.equal(await decisions(pc, 'admin', 'gina', 1), 1, 'the second allow came from NGINX\'s cache');
    t.equal(backend.received.length, before + 2);
    t.equal(backend.received.at(-1)!.headers['x-user-id'], 'gina', 'the cached allow brought its identity header');

    const hank = await get(ngx.url + '/admin/x', { authorization: `Bearer ${await token('hank', { scope: 'admin' })}` });
    t.equal(hank.status, 200);
    t.equal(backend.received.at(-1)!.headers['x-user-id'], 'hank', 'never gina\'s allow for hank');
    t.equal(await decisions(pc, 'admin', 'hank', 1), 1);
    t.equal((await get(ngx.url + '/admin/x', { authorization: `Bearer ${await token('ivan')}` })).status, 403, 'no scope: asked, refused');
    t.equal((await get(ngx.url + '/admin/x')).status, 401);
    t.equal((await get(ngx.url + '/admin/y', gina)).status, 200);
    t.equal(await decisions(pc, 'admin', 'gina', 2), 2, 'another URI is another key');

    const jo = { authorization: `Bearer ${await token('jo')}` };
    t.equal((await get(ngx.url + '/api/x', jo)).status, 200);
    t.equal((await get(ngx.url + '/api/x', jo)).status, 200);
    t.equal(await decisions(pc, 'api', 'jo', 2), 2, 'a rate-limited route is never cached');
  });

  void t.test('Portcullis unreachable: 503 from NGINX, fail closed', async (t) => {
    const ngx = await startNginx({ auth: await freePort(), backend: backend.port });
    t.teardown(() => ngx.close());
    const before = backend.received.length;
    const res = await get(ngx.url + '/public/x');
    t.equal(res.status, 503);
    t.equal(res.headers['retry-after'], '5');
    t.same(JSON.parse(res.body), { error: 'unavailable', requestId: JSON.parse(res.body).requestId });
    t.equal(backend.received.length, before);
  });

  void t.test('Portcullis answering 503 (signing keys never loaded): the client gets 503 + Retry-After', async (t) => {
    const doc = await shippedDoc();
    doc['auth'] = { providers: [{ name: 'dev', issuer: 'portcullis-dev', jwksUri: `http://127.0.0.1:${await freePort()}/jwks`, algorithms: ['ES256'] }] };
    const pc = await startAuthGateway(doc, {}, false);
    const ngx = await startNginx({ auth: pc.port, backend: backend.port });
    t.teardown(async () => { await ngx.close(); await pc.close(); });
    const res = await get(ngx.url + '/api/x', { authorization: `Bearer ${await token('kim')}` });
    t.equal(res.status, 503);
    t.equal(res.headers['retry-after'], '5');
    t.same(JSON.parse(res.body), { error: 'unavailable', requestId: res.headers['x-request-id'] });
  });
}
