/**
 * The gateway with `waf.crs` through real sockets: CRS blocks before the upstream sees the
 * request, with the same 403 body, access-log fields and metric as the built-in rules; detect
 * mode per route, mode off per route; the forward-auth shape sees URI and header rules; a bad
 * rules directory fails the config load naming the key.
 */
import t from 'tap';
import { request } from 'undici';
import pino from 'pino';
import { compileGateway } from '../../../src/compile/gateway.js';
import { validateConfig } from '../../../src/config/validate.js';
import { GatewayMetrics } from '../../../src/observe/metrics.js';
import { startUpstream, type RecordingUpstream } from '../../helpers/upstream.js';
import { startGateway, eventually, type TestGateway } from '../../helpers/gateway.js';
import { CRS_ABSENT, crsDir, restApiExclusions, ruleDir } from '../../helpers/crs.js';
import { blockedOnApi } from '../blocked.js';

const dir = crsDir();
let up: RecordingUpstream;
let gw: TestGateway;

t.before(async () => {
  if (dir === null) return;
  up = await startUpstream();
  gw = await startGateway({
    waf: { mode: 'block', crs: { rulesDir: dir, exclusions: [restApiExclusions()] } },
    routes: [
      { name: 'watch', match: { path: '/watch' }, auth: 'none', upstream: up.url, waf: 'detect' },
      { name: 'open', match: { path: '/open' }, auth: 'none', upstream: up.url, waf: 'off' },
      { name: 'api', match: { path: '/' }, auth: 'none', upstream: up.url },
    ],
  });
});
t.teardown(async () => {
  if (dir === null) return;
  await gw.close();
  await up.close();
});

async function send(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await request(gw.url + path, { method: method as 'POST', body, headers: { 'user-agent': 'Mozilla/5.0', accept: 'application/json', ...headers } });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

const skip = dir === null ? CRS_ABSENT : false;

void t.test('a CRS block: 403 forbidden, upstream untouched, rule ids and score logged and counted', { skip }, async (t) => {
  const before = up.received.length;
  const res = await send('POST', '/api/search', '{"query":"1\' UNION SELECT password FROM users--"}', { 'content-type': 'application/json' });
  const line = await blockedOnApi(t, gw, up, before, res);
  const rules = line['wafRules'] as number[];
  t.ok(rules.some((id) => id >= 942000 && id < 943000), `CRS SQLi rule ids in the access log (${rules.join(',')})`);
  t.ok((line['wafScore'] as number) >= 5, 'CRS’s inbound anomaly score');
  const metrics = await (await request(gw.adminUrl + '/metrics')).body.text();
  t.match(metrics, new RegExp(`portcullis_waf_matches_total\\{rule="${rules[0]}",action="block"\\} 1`));
});

void t.test('ordinary REST traffic passes, PUT included (rest-api.conf)', { skip }, async (t) => {
  const get = await send('GET', '/api/v1/orders?status=open&limit=25&q=running%20shoes');
  t.equal(get.status, 200);
  const put = await send('PUT', '/api/v1/orders/42', '{"name":"Conor O\'Dwyer","note":"Ring twice"}', { 'content-type': 'application/json' });
  t.equal(put.status, 200);
});

void t.test('detect mode forwards and logs; mode off forwards unlogged', { skip }, async (t) => {
  const watch = await send('GET', '/watch?file=../../../../etc/passwd');
  t.equal(watch.status, 200, 'detect mode forwards');
  t.ok(await eventually(() => gw.access().some((l) => l['requestId'] === watch.headers['x-request-id'])));
  const line = gw.access().find((l) => l['requestId'] === watch.headers['x-request-id'])!;
  t.ok((line['wafRules'] as number[]).includes(930100), 'and logs what CRS matched');
  const metrics = await (await request(gw.adminUrl + '/metrics')).body.text();
  t.match(metrics, /portcullis_waf_matches_total\{rule="930100",action="detect"\} 1/);
  const open = await send('GET', '/open?file=../../../../etc/passwd');
  t.equal(open.status, 200);
});

void t.test('a rules directory that is not SecLang fails the config load with the key, file and line', async (t) => {
  const bad = ruleDir({ 'REQUEST-1.conf': 'SecRule ARGS "@rx a" "id:1,phase:2,pass"\nSecRule ARGS "@rx b" "id:2,phase:2,nonsense"\n' });
  const cfg = validateConfig({
    listeners: { http: { host: '127.0.0.1', port: 0 } },
    waf: { crs: { rulesDir: bad } },
    routes: [{ name: 'r', match: {}, auth: 'none', upstream: 'http://127.0.0.1:9' }],
  });
  await t.rejects(compileGateway(cfg, { logger: pino({ level: 'silent' }), metrics: new GatewayMetrics({ defaultMetrics: false }) }),
    { code: 'PORTCULLIS_ERR_CONFIG', message: new RegExp(`waf\\.crs\\.rulesDir: ${bad}/REQUEST-1\\.conf:2: unknown action nonsense`) });
});
