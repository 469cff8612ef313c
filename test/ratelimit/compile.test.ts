/** compile.ts through compileGateway: stage order, and what a reload keeps. */
import t from 'tap';
import pino from 'pino';
import { compileGateway } from '../../src/compile/gateway.js';
import { validateConfig } from '../../src/config/validate.js';
import { GatewayMetrics } from '../../src/observe/metrics.js';
import type { Gateway } from '../../src/pipeline/gateway.js';
import type { Respond, Verdict } from '../../src/contract/types.js';
import { makeCtx } from './ctx.js';

const deps = { logger: pino({ level: 'silent' }), metrics: new GatewayMetrics({ defaultMetrics: false }) };

function config(localMaxBuckets = 1000) {
  return validateConfig({
    listeners: { http: { host: '127.0.0.1', port: 0 } },
    rateLimits: { localMaxBuckets, policies: { once: { key: 'ip', capacity: 1, refillPerSecond: 0.001 } } },
    routes: [
      { name: 'limited', match: { path: '/a' }, allowCidrs: ['192.0.2.0/24'], upstream: 'http://127.0.0.1:1', rateLimit: 'once' },
      { name: 'open', match: { path: '/b' }, auth: 'none', upstream: 'http://127.0.0.1:1' },
    ],
  });
}

function limitStage(gw: Gateway) {
  return gw.routes.routes.find((r) => r.name === 'limited')!.stages.find((s) => s.name === 'ratelimit')!;
}

const status = (v: Verdict | Promise<Verdict>): number | 'continue' => {
  if (v instanceof Promise) throw new Error('expected a synchronous verdict in process');
  return v.kind === 'continue' ? 'continue' : (v as Respond).status;
};

void t.test('ratelimit runs after netpolicy and auth (PRODUCT §1 order); unlimited routes have no stage', async (t) => {
  const gw = await compileGateway(config(), deps);
  t.teardown(() => gw.retire());
  const names = (route: string) => gw.routes.routes.find((r) => r.name === route)!.stages.map((s) => s.name);
  t.equal(names('limited')[0], 'netpolicy');
  t.same(names('limited').slice(-2), ['ratelimit', 'waf'], 'then only the WAF (on by default)');
  t.ok(names('limited').indexOf('auth') < names('limited').indexOf('ratelimit'), `order: ${names('limited').join(' → ')}`);
  t.notOk(names('open').includes('ratelimit'));
});

void t.test('a reload keeps the in-process buckets, unless their size changed', async (t) => {
  const first = await compileGateway(config(), deps);
  t.equal(status(limitStage(first).handle(makeCtx())), 'continue');
  t.equal(status(limitStage(first).handle(makeCtx())), 429);
  const reloaded = await compileGateway(config(), deps, first);
  await first.retire();
  t.equal(status(limitStage(reloaded).handle(makeCtx())), 429, 'SIGHUP does not hand out a fresh burst');
  const resized = await compileGateway(config(2000), deps, reloaded);
  await reloaded.retire();
  t.equal(status(limitStage(resized).handle(makeCtx())), 'continue', 'a new localMaxBuckets starts afresh');
  await resized.retire();
});
