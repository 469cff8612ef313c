import t from 'tap';
import pino from 'pino';
import { validateConfig } from '../../src/config/validate.js';
import { GatewayMetrics } from '../../src/observe/metrics.js';
import { WafPolicy } from '../../src/waf/compile.js';
import { RuleSet } from '../../src/waf/engine.js';
import { NO_EXCLUSIONS } from '../../src/waf/exclusions.js';
import { CRITICAL, Form, T_TEXT, T_VALUE, type Rule } from '../../src/waf/rule.js';
import { WafCounters, WafStage } from '../../src/waf/stage.js';
import { CONTINUE, type BodyAccess, type BodyPrefix, type Stage, type Verdict } from '../../src/contract/types.js';
import { makeCtx, type CtxOptions } from './helpers.js';

function compile(waf: Record<string, unknown> | undefined, routeWaf?: string, name = 'r') {
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const cfg = validateConfig({
    listeners: { http: { host: '127.0.0.1', port: 0 } },
    ...(waf === undefined ? {} : { waf }),
    routes: [{ name, match: {}, auth: 'none', upstream: 'http://127.0.0.1:9', ...(routeWaf === undefined ? {} : { waf: routeWaf }) }, { name: 'other', match: {}, auth: 'none', upstream: 'http://127.0.0.1:9' }],
  });
  const policy = new WafPolicy(cfg, { logger: pino({ level: 'silent' }), metrics });
  return { stage: policy.stageFor(cfg.routes[0]!), other: policy.stageFor(cfg.routes[1]!), metrics };
}

async function run(stage: Stage, o: CtxOptions) {
  const ctx = makeCtx(o);
  const verdict: Verdict = await stage.handle(ctx);
  return { verdict, ctx };
}

const ATTACK = { query: 'q=%3Cscript%3Ex%3C%2Fscript%3E' };

void t.test('block: 403 waf_blocked with a public code only; ids and score recorded; metrics', async (t) => {
  const { stage, metrics } = compile({ mode: 'block' });
  const { verdict, ctx } = await run(stage!, ATTACK);
  t.same(verdict, { kind: 'respond', status: 403, decision: 'waf_blocked', error: 'forbidden' });
  t.same(ctx.wafRules, [941110]);
  t.equal(ctx.wafScore, 5);
  const clean = await run(stage!, { query: 'q=shoes&page=2' });
  t.equal(clean.verdict, CONTINUE);
  t.equal(clean.ctx.wafRules, null);
  t.equal(clean.ctx.wafScore, null);
  t.match(await metrics.registry.metrics(), /portcullis_waf_matches_total\{rule="941110",action="block"\} 1/);
});

void t.test('detect logs and counts but lets the request through; off compiles no stage', async (t) => {
  const { stage, metrics } = compile({ mode: 'detect' });
  const { verdict, ctx } = await run(stage!, ATTACK);
  t.equal(verdict, CONTINUE);
  t.same(ctx.wafRules, [941110]);
  t.match(await metrics.registry.metrics(), /portcullis_waf_matches_total\{rule="941110",action="detect"\} 1/);
  t.equal(compile({ mode: 'off' }).stage, null);
  const byDefault = compile(undefined).stage;
  t.not(byDefault, null, 'no waf section: on (security by default)');
  t.equal((await run(byDefault!, ATTACK)).verdict.kind, 'respond', 'and blocking at the default threshold');
});

void t.test('a route overrides the global mode', async (t) => {
  const a = compile({ mode: 'off' }, 'block');
  t.not(a.stage, null);
  t.equal(a.other, null, 'the other route keeps the global off');
  t.equal((await run(a.stage!, ATTACK)).verdict.kind, 'respond');
  const b = compile({ mode: 'block' }, 'detect');
  t.equal((await run(b.stage!, ATTACK)).verdict, CONTINUE);
  t.equal((await run(b.other!, ATTACK)).verdict.kind, 'respond');
  const c = compile(undefined, 'block');
  t.equal((await run(c.stage!, ATTACK)).verdict.kind, 'respond', 'route waf without a waf section uses the defaults');
});

void t.test('anomaly threshold: severities add up', async (t) => {
  const { stage } = compile({ anomalyThreshold: 8 });
  const one = await run(stage!, ATTACK);
  t.equal(one.verdict, CONTINUE, 'one critical (5) is under 8');
  t.same(one.ctx.wafRules, [941110]);
  const two = await run(stage!, { query: 'q=%3Cscript%3E&r=..%2F..%2F..%2Fetc%2Fpasswd' });
  t.equal(two.verdict.kind, 'respond', 'two criticals (10) reach 8');
  const warn = await run(compile({})!.stage!, { query: 'q=' + encodeURIComponent('case when a then b end') });
  t.equal(warn.verdict, CONTINUE, 'a warning (3) alone does not block at 5');
  t.equal(warn.ctx.wafScore, 3);
});

void t.test('paranoia selects rules', async (t) => {
  const q = { query: 'q=' + encodeURIComponent('3 < 5 or 5 > 3') + '&r=' + encodeURIComponent('case when a then b end') };
  t.equal((await run(compile({ paranoia: 1 }).stage!, q)).verdict, CONTINUE);
  t.equal((await run(compile({ paranoia: 2 }).stage!, q)).verdict.kind, 'respond', 'ERROR 942141 + WARNING 942260 at paranoia 2');
});

void t.test('exclusions apply to their route, rules and target only', async (t) => {
  const { stage, other } = compile({ exclusions: [{ route: 'r', rules: [941110], target: 'args:q' }] });
  t.equal((await run(stage!, ATTACK)).verdict, CONTINUE);
  t.equal((await run(stage!, { query: 'x=%3Cscript%3E' })).verdict.kind, 'respond', 'another argument');
  t.equal((await run(other!, ATTACK)).verdict.kind, 'respond', 'another route');
  const everywhere = compile({ exclusions: [{ rules: [941110] }] });
  t.equal((await run(everywhere.other!, ATTACK)).verdict, CONTINUE, 'no route, no target: the rule is off everywhere');
});

class SpyBody implements BodyAccess {
  reads = 0;
  constructor(readonly result: BodyPrefix, readonly declaredBytes: number | null = null) {}
  readPrefix(): Promise<BodyPrefix> {
    this.reads++;
    return Promise.resolve(this.result);
  }
}

void t.test('bodies: read only when inspectable, never in forward-auth shape, blocked on the head alone', async (t) => {
  const { stage } = compile({});
  const json = { method: 'POST', headers: { 'content-type': 'application/json' } };
  const attack = await run(stage!, { ...json, body: '{"q":"<img src=x onerror=go()>"}' });
  t.equal(attack.verdict.kind, 'respond');
  t.same(attack.ctx.wafRules, [941120]);
  const verdict = stage!.handle(makeCtx({ ...json, body: '{"q":"fine"}' }));
  t.ok(verdict instanceof Promise, 'async only when a body is read');
  t.equal(stage!.handle(makeCtx({ query: 'q=fine' })), CONTINUE, 'sync without a body');

  const spy = new SpyBody({ bytes: Buffer.from('<script>'), complete: true, failed: false });
  const binary = makeCtx({ method: 'POST', headers: { 'content-type': 'image/png' } });
  binary.body = spy;
  t.equal(await stage!.handle(binary), CONTINUE);
  const fa = makeCtx({ method: 'POST', headers: { 'content-type': 'text/plain' }, shape: 'forward-auth' });
  fa.body = spy;
  t.equal(await stage!.handle(fa), CONTINUE);
  const headBlocked = makeCtx({ method: 'POST', query: 'q=%3Cscript%3E', headers: { 'content-type': 'text/plain' } });
  headBlocked.body = spy;
  t.equal((await stage!.handle(headBlocked)).kind, 'respond');
  t.equal(spy.reads, 0, 'binary, forward-auth and head-blocked requests never read the body');

  const off = compile({ inspectBodyBytes: 0 });
  t.equal(await off.stage!.handle(makeCtx({ ...json, body: '{"q":"<script>"}' })), CONTINUE, 'inspectBodyBytes 0 reads no body');

  const gone = makeCtx({ method: 'POST', headers: { 'content-type': 'text/plain' } });
  gone.body = new SpyBody({ bytes: Buffer.alloc(0), complete: false, failed: true });
  t.match(await stage!.handle(gone), { status: 400, decision: 'bad_request' }, 'a client that left mid-body');
});

void t.test('the body bound: the first inspectBodyBytes are inspected, the rest is not (ProcessPartial)', async (t) => {
  const { stage } = compile({ inspectBodyBytes: 1024 });
  const text = { method: 'POST', headers: { 'content-type': 'text/plain' } };
  t.equal((await run(stage!, { ...text, body: '<script>' + 'a'.repeat(5000) })).verdict.kind, 'respond', 'inside the bound');
  t.equal((await run(stage!, { ...text, body: 'a'.repeat(5000) + '<script>' })).verdict, CONTINUE, 'past the bound: streamed uninspected');
});

/** A pattern with a bug: matching it throws, as a broken transform or parser would. */
class FaultyPattern extends RegExp {
  override exec(): RegExpExecArray | null {
    throw new RangeError('Maximum call stack size exceeded');
  }
}

void t.test('a throw inside inspection is never a 500: logged, refused in block mode, let through in detect', async (t) => {
  const faulty: Rule = { id: 942999, family: 'sqli', severity: CRITICAL, paranoia: 1, targets: T_VALUE | T_TEXT, forms: [Form.Lower], msg: 'faulty', pattern: new FaultyPattern('boom') };
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const counters = new WafCounters(new GatewayMetrics({ defaultMetrics: false }).wafMatchesTotal);
  const stageOf = (mode: 'block' | 'detect'): WafStage => new WafStage(new RuleSet(1, [faulty]), { mode, anomalyThreshold: 5, inspectBodyBytes: 1024 }, NO_EXCLUSIONS, counters, logger);
  const head = await run(stageOf('block'), { query: 'q=boom' });
  t.same(head.verdict, { kind: 'respond', status: 403, decision: 'waf_blocked', error: 'forbidden' }, 'head: refused as a match');
  t.same(head.ctx.wafRules, [920702]);
  const body = await run(stageOf('block'), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'boom' });
  t.same(body.verdict, { kind: 'respond', status: 403, decision: 'waf_blocked', error: 'forbidden' }, 'body: the same');
  const detect = await run(stageOf('detect'), { query: 'q=boom' });
  t.equal(detect.verdict, CONTINUE, 'detect never refuses');
  t.same(detect.ctx.wafRules, [920702]);
  t.equal(lines.length, 3, 'each failure logged');
  t.match(lines[0], { msg: 'WAF inspection failed', requestId: 'req-waf', err: { message: 'Maximum call stack size exceeded' } });
  t.notOk(JSON.stringify(lines).includes('q=boom'), 'the value itself is not logged');
});
