/**
 * The README quick start with the built binary: the default config's `dev`
 * provider trusts config/dev-jwks.json; `portcullis token` mints a token that
 * passes; without one the answer is 401; the echo upstream shows the
 * identity header it received.
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { startProcess, runToExit, MAIN } from '../helpers/process.js';

const ROOT = resolve(MAIN, '../../..');

void t.test('quick start: 401 without a token, 200 with `portcullis token`, x-user-id at the upstream', async (t) => {
  // The shipped config with every listener on port 0; run from the package root like `npm start`.
  const dir = t.testdir();
  const file = join(dir, 'gateway.yaml');
  const shipped = readFileSync(join(ROOT, 'config/gateway.yaml'), 'utf8');
  writeFileSync(file, shipped
    .replace('"${PORTCULLIS_HTTP_PORT:-8080}"', '0')
    .replace('"${PORTCULLIS_ADMIN_PORT:-9090}"', '0')
    .replace('"${PORTCULLIS_AUTH_PORT:-8081}"', '0')
    .replace('"${PORTCULLIS_DEMO_PORT:-8070}"', '"${DEMO_PORT}"')
    .replaceAll('${PORTCULLIS_DEMO_PORT:-8070}', '${DEMO_PORT}'));
  // The demo upstream needs a fixed port the routes can name: take one from the OS first.
  const { createServer } = await import('node:net');
  const demoPort = await new Promise<number>((r) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)); }); });
  const gp = await startProcess(['serve', '--config', file], { DEMO_PORT: String(demoPort) });
  t.teardown(() => gp.kill());
  await gp.waitForLog((l) => l['msg'] === 'listening' && l['listener'] === 'http');
  await gp.waitForLog((l) => l['msg'] === 'signing keys loaded');
  const base = `http://127.0.0.1:${gp.port('http')}`;

  const anonymous = await request(base + '/api/x');
  t.equal(anonymous.statusCode, 401);
  t.equal(anonymous.headers['www-authenticate'], 'Bearer realm="portcullis"');
  await anonymous.body.dump();

  const minted = await runToExit(['token', '--sub', 'alice', '--scope', 'orders:read', '--ttl', '5m']);
  t.equal(minted.code, 0);
  t.equal(minted.stderr, '');
  t.match(minted.stdout, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/, 'stdout is the token and nothing else');
  const ok = await request(base + '/api/x', { headers: { authorization: `Bearer ${minted.stdout.trim()}` } });
  t.equal(ok.statusCode, 200);
  const echoed = await ok.body.json() as { headers: Record<string, string> };
  t.equal(echoed.headers['x-user-id'], 'alice', 'the echo upstream received the identity header');
  const line = await gp.waitForLog((l) => l['msg'] === 'access' && l['status'] === 200);
  t.equal(line['sub'], 'alice', 'sub in the access log');

  // The README's forward-auth line: the same route, asked about on the auth listener as Envoy asks.
  const decided = await request(`http://127.0.0.1:${gp.port('auth')}/envoy/api/orders`, { headers: { authorization: `Bearer ${minted.stdout.trim()}` } });
  t.equal(decided.statusCode, 200);
  t.equal(decided.headers['x-user-id'], 'alice');
  t.equal(await decided.body.text(), '', 'a decision, not a forwarded response');

  const admin = await request(`http://127.0.0.1:${gp.port('admin')}/readyz`);
  t.equal(admin.statusCode, 200);
  await admin.body.dump();
  const metrics = await request(`http://127.0.0.1:${gp.port('admin')}/metrics`);
  t.match(await metrics.body.text(), /portcullis_auth_failures_total\{provider="",reason="missing"\} 1/);
});

void t.test('portcullis token: bad arguments exit 1 with a message, no token', async (t) => {
  for (const args of [['token'], ['token', '--sub', 'a', '--ttl', 'soon'], ['token', '--sub', 'a', '--claim', 'exp=1'], ['token', '--bogus']]) {
    const r = await runToExit(args);
    t.equal(r.code, 1, args.join(' '));
    t.equal(r.stdout, '');
    t.notMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  }
});
