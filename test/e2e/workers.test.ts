/**
 * `server.workers: 2` with the built binary on real sockets (issue 8 §4): both workers serve
 * the one port, the primary's admin listener sums their metrics and reports their readiness,
 * SIGHUP reloads every worker (a rejected config keeps serving), a killed worker is replaced,
 * SIGTERM drains all of them and the primary exits 0.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { request } from 'undici';
import { startUpstream } from '../helpers/upstream.js';
import { serveConfigFile, type GatewayProcess } from '../helpers/process.js';

function configText(upstream: string, extraRoute = ''): string {
  return `
server: { workers: 2, shutdownGraceMs: 3000 }
listeners:
  http: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
routes:
  - name: public
    match: { path: /public }
    auth: none
    upstream: ${upstream}
${extraRoute}`;
}

const EXTRA = (upstream: string): string => `  - name: extra\n    match: { path: /extra }\n    auth: none\n    upstream: ${upstream}\n`;

/** GET on a fresh connection each time (connection: close), so cluster's round-robin spreads them. */
async function getFresh(url: string): Promise<number> {
  const r = await request(url, { reset: true, headersTimeout: 5_000 });
  await r.body.dump();
  return r.statusCode;
}

function count(gp: GatewayProcess, msg: string): number {
  return gp.logs.filter((l) => l['msg'] === msg).length;
}

void t.test('two workers: serve, sum metrics, reload on SIGHUP, replace a killed worker, drain on SIGTERM', async (t) => {
  const up = await startUpstream();
  const { gp, file } = await serveConfigFile(t, configText(up.url), () => up.close());
  await gp.waitForLog((l) => l['msg'] === 'all workers ready', 30_000);
  const readyLines = gp.logs.filter((l) => l['msg'] === 'worker ready');
  t.equal(readyLines.length, 2, 'two workers reported ready');
  const pids = readyLines.map((l) => l['pid'] as number);
  t.equal(new Set(pids).size, 2, 'in two processes');
  t.ok(pids.every((p) => p !== gp.child.pid), 'neither is the primary');

  const base = `http://127.0.0.1:${gp.port('http')}`;
  const admin = `http://127.0.0.1:${gp.port('admin')}`;

  // requests are served, by both workers
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push(await getFresh(`${base}/public/${i}`));
  t.same(statuses, Array(12).fill(200), 'twelve requests answered 200');
  await gp.waitForLog(() => gp.logs.filter((l) => l['msg'] === 'access').length >= 12);
  const servedBy = new Set(gp.logs.filter((l) => l['msg'] === 'access').map((l) => l['worker']));
  t.same([...servedBy].sort(), [1, 2], 'access lines from worker 1 and worker 2');

  // the primary's admin listener: readiness of all workers, metrics summed over them
  const ready = await request(`${admin}/readyz`);
  t.same({ status: ready.statusCode, body: await ready.body.json() }, { status: 200, body: { status: 'ready' } });
  const metrics = await request(`${admin}/metrics`);
  const text = await metrics.body.text();
  t.equal(metrics.statusCode, 200);
  t.match(text, /portcullis_requests_total\{route="public",method="GET",status="200",decision="allow"\} 12\b/, 'both workers counted in one series');

  // SIGHUP: every worker reloads; the new route is served whichever worker answers
  writeFileSync(file, configText(up.url, EXTRA(up.url)));
  gp.child.kill('SIGHUP');
  await gp.waitForLog(() => count(gp, 'config reloaded') >= 2);
  const extra: number[] = [];
  for (let i = 0; i < 6; i++) extra.push(await getFresh(`${base}/extra/${i}`));
  t.same(extra, Array(6).fill(200), 'the reloaded config serves /extra on every worker');

  // an invalid config on SIGHUP is rejected by each worker, which keeps serving
  writeFileSync(file, configText(up.url, EXTRA(up.url)).replace(`upstream: ${up.url}`, 'upstream: ftp://nope'));
  gp.child.kill('SIGHUP');
  await gp.waitForLog(() => gp.logs.filter((l) => String(l['msg']).startsWith('config reload rejected')).length >= 2);
  const still: number[] = [];
  for (let i = 0; i < 4; i++) still.push(await getFresh(`${base}/extra/${i}`));
  t.same(still, Array(4).fill(200), 'the previous config keeps serving');

  // a killed worker is replaced (same slot, new process), and traffic keeps flowing; the
  // replacement reads the file as it is on disk, so put the valid one back first
  writeFileSync(file, configText(up.url, EXTRA(up.url)));
  const extraCount = async (): Promise<number> => {
    const text = await (await request(`${admin}/metrics`)).body.text();
    const m = /portcullis_requests_total\{route="extra",method="GET",status="200",decision="allow"\} (\d+)/.exec(text);
    return m === null ? -1 : Number(m[1]);
  };
  t.equal(await extraCount(), 10, 'ten /extra requests counted before the kill');
  const victim = pids[0]!;
  process.kill(victim, 'SIGKILL');
  const exitLine = await gp.waitForLog((l) => l['msg'] === 'worker exited unexpectedly; restarting it');
  t.equal(exitLine['pid'], victim);
  t.equal(exitLine['signal'], 'SIGKILL');
  const replaced = await gp.waitForLog((l) => l['msg'] === 'worker ready' && !pids.includes(l['pid'] as number), 30_000);
  t.equal(replaced['worker'], exitLine['worker'], 'the replacement takes the dead worker\'s slot');
  const after: number[] = [];
  for (let i = 0; i < 6; i++) after.push(await getFresh(`${base}/extra/${i}`));
  t.same(after, Array(6).fill(200), 'served after the replacement (with the config on disk: /extra stays)');
  t.equal(await extraCount(), 16, 'the dead worker\'s counts are carried over: the sum did not go down');

  // SIGTERM: every worker drains, the primary exits 0
  gp.child.kill('SIGTERM');
  t.equal(await gp.exited, 0, 'the primary exits 0');
  t.equal(count(gp, 'worker stopped'), 2, 'both workers stopped');
  for (const pid of [...pids.slice(1), replaced['pid'] as number]) {
    t.throws(() => process.kill(pid, 0), 'worker process is gone');
  }
});

void t.test('a worker that cannot start (port in use) makes the primary exit 1 instead of looping', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  // the upstream's own port: the workers cannot bind it
  const { gp } = await serveConfigFile(t, configText(up.url).replace('http: { host: 127.0.0.1, port: 0 }', `http: { host: 127.0.0.1, port: ${up.port} }`));
  t.equal(await gp.exited, 1, 'exit code 1');
  t.ok(gp.logs.some((l) => l['msg'] === 'worker exited before it was ready: cannot start listeners'), 'logged why');
});

void t.test('workers do not outlive a killed primary: they drain and exit', async (t) => {
  const up = await startUpstream();
  t.teardown(() => up.close());
  const { gp } = await serveConfigFile(t, configText(up.url));
  await gp.waitForLog((l) => l['msg'] === 'all workers ready', 30_000);
  const pids = gp.logs.filter((l) => l['msg'] === 'worker ready').map((l) => l['pid'] as number);
  t.equal(pids.length, 2);
  gp.child.kill('SIGKILL');
  await gp.exited;
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && pids.some(alive)) await new Promise((r) => setTimeout(r, 50));
  t.same(pids.filter(alive), [], 'both workers exited');
});
