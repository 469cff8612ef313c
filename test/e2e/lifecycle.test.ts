/**
 * The built binary on real sockets: SIGHUP reload under load loses no
 * request, an invalid reload keeps the old config, SIGTERM drains a slow
 * request and exits 0, and `check` validates.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request, Agent } from 'undici';
import { startUpstream } from '../helpers/upstream.js';
import { runToExit, serveConfigFile } from '../helpers/process.js';

function configText(upstream: string, extraRoute = ''): string {
  return `
listeners:
  http: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
server: { shutdownGraceMs: 5000 }
routes:
  - name: public
    match: { path: /public }
    auth: none
    upstream: ${upstream}
${extraRoute}`;
}

void t.test('SIGHUP under continuous load: zero failed requests, the new config takes over', async (t) => {
  const up = await startUpstream();
  const { gp, file } = await serveConfigFile(t, configText(up.url), () => up.close());
  await gp.waitForLog((l) => l['msg'] === 'listening' && l['listener'] === 'http');
  const base = `http://127.0.0.1:${gp.port('http')}`;
  const agent = new Agent({ connections: 16 });
  let ok = 0;
  const failures: string[] = [];
  let stop = false;
  const worker = async () => {
    for (let i = 0; i < 2000 && !stop; i++) {
      try {
        const r = await request(base + '/public/x', { dispatcher: agent });
        await r.body.dump();
        if (r.statusCode === 200) ok++;
        else failures.push(String(r.statusCode));
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 150));
    const extra = i % 2 === 0 ? `  - name: extra\n    match: { path: /extra }\n    auth: none\n    upstream: ${up.url}\n` : '';
    writeFileSync(file, configText(up.url, extra));
    gp.child.kill('SIGHUP');
    await gp.waitForLog((l) => l['msg'] === 'config reloaded' && gp.logs.filter((x) => x['msg'] === 'config reloaded').length > i);
  }
  stop = true;
  await Promise.all(workers);
  await agent.close();
  t.same(failures, [], 'no request failed during five reloads');
  t.ok(ok > 100, `${ok} requests succeeded`);
  const extra = await request(base + '/extra');
  await extra.body.dump();
  t.equal(extra.statusCode, 200, 'the last reloaded config (with /extra) serves');
});

void t.test('an invalid config on SIGHUP is rejected with a log line; the old one keeps serving', async (t) => {
  const up = await startUpstream();
  const { gp, file } = await serveConfigFile(t, configText(up.url), () => up.close());
  await gp.waitForLog((l) => l['msg'] === 'listening' && l['listener'] === 'http');
  writeFileSync(file, configText(up.url).replace('upstream: ' + up.url, 'upstream: ftp://nope'));
  gp.child.kill('SIGHUP');
  const line = await gp.waitForLog((l) => String(l['msg']).startsWith('config reload rejected'));
  t.match(JSON.stringify(line['problems']), /routes\[0\]\.upstream/);
  const r = await request(`http://127.0.0.1:${gp.port('http')}/public/still`);
  await r.body.dump();
  t.equal(r.statusCode, 200);
});

void t.test('SIGTERM drains a slow in-flight request, refuses new connections, exits 0', async (t) => {
  const up = await startUpstream((_req, res) => { setTimeout(() => res.end('slow but complete'), 800); });
  const { gp } = await serveConfigFile(t, configText(up.url), () => up.close());
  await gp.waitForLog((l) => l['msg'] === 'listening' && l['listener'] === 'http');
  const base = `http://127.0.0.1:${gp.port('http')}`;
  const inflight = request(base + '/public/slow').then(async (r) => ({ status: r.statusCode, body: await r.body.text() }));
  await new Promise((r) => setTimeout(r, 200));
  gp.child.kill('SIGTERM');
  await gp.waitForLog((l) => String(l['msg']).startsWith('shutting down'));
  await t.rejects(request(base + '/public/new', { headersTimeout: 500 }), 'new connections are refused while draining');
  const done = await inflight;
  t.same(done, { status: 200, body: 'slow but complete' }, 'the in-flight request finished');
  t.equal(await gp.exited, 0, 'exit code 0');
});

void t.test('portcullis check: valid config lists routes; invalid names every bad key and exits 1', async (t) => {
  const dir = t.testdir({
    'good.yaml': configText('http://127.0.0.1:9'),
    'bad.yaml': `
listeners:
  http: { host: 127.0.0.1, port: 99999 }
routes:
  - name: a
    match: { path: nope }
    upstream: ftp://x
    bogus: 1
  - name: a
    auth: none
    upstream: http://ok
    allowCidrs: [10.0.0.0/33]
`,
  });
  const good = await runToExit(['check', '--config', join(dir, 'good.yaml')]);
  t.equal(good.code, 0);
  t.match(good.stdout, /1\. public: stages waf; upstream http:\/\/127\.0\.0\.1:9/);
  const bad = await runToExit(['check', '--config', join(dir, 'bad.yaml')]);
  t.equal(bad.code, 1);
  for (const path of ['listeners.http.port', 'routes[0].match.path', 'routes[0].upstream', 'routes[0].bogus', 'routes[1].allowCidrs[0]']) {
    t.match(bad.stderr, path, `names ${path}`);
  }
  t.notMatch(bad.stderr, /at .*\.js:\d+/, 'no stack trace');
});
