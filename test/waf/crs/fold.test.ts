/**
 * The evaluation machinery of issue 18's cost work: rules folded at load (fold.ts) and the
 * per-target clean sets (evaluate.ts #allClean) change no outcome — matched rules, interruption
 * and TX — on rule sets built to trip them: writes of the value already there, static skips,
 * ctl removals, per-request rules between folded ones, exclusions and values sent again.
 */
import t, { type Test } from 'tap';
import type { LoadedCrs } from '../../../src/waf/crs/loader.js';
import { load, run, type Req } from './helpers.js';

function outcome(crs: LoadedCrs, req: Req): string {
  const tx = run(crs, req);
  const vars = [...tx.tx].filter(([k]) => !/^\d+$/.test(k)).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([tx.matchedIds, tx.interrupted, vars]);
}

/** Each request through the folded and the unfolded engine, twice (the second time, memos and clean sets answer). */
function same(t: Test, rules: string, reqs: readonly Req[], minFolded: number): void {
  const folded = load(rules);
  const plain = load(rules, {}, { fold: false });
  t.ok(folded.evaluator.folded >= minFolded, `${folded.evaluator.folded} rules folded`);
  t.equal(plain.evaluator.folded, 0);
  for (const round of [1, 2]) {
    for (const req of reqs) t.equal(outcome(folded, req), outcome(plain, req), `round ${round}: ${req.query ?? ''} ${req.path ?? ''}`);
  }
}

const SETUP = `
SecAction "id:901200,phase:1,pass,nolog,setvar:tx.score=0,setvar:tx.pl=1"
SecRule &TX:limit "@eq 0" "id:901100,phase:1,pass,nolog,setvar:tx.limit=5"
SecRule TX:pl "@lt 1" "id:911011,phase:1,pass,nolog,skipAfter:END-911"
SecRule ARGS "@rx evil" "id:911100,phase:1,block,severity:CRITICAL,setvar:'tx.score=+5'"
SecRule TX:pl "@lt 2" "id:911013,phase:1,pass,nolog,skipAfter:END-911"
SecRule ARGS "@rx bad" "id:911110,phase:1,block,severity:CRITICAL,setvar:'tx.score=+5'"
SecMarker "END-911"
SecAction "id:949059,phase:2,pass,nolog,setvar:tx.score=0"
SecRule ARGS "@rx worse" "id:942100,phase:2,block,severity:CRITICAL,setvar:'tx.score=+5'"
SecRule TX:score "@ge %{tx.limit}" "id:949110,phase:2,deny,log,severity:CRITICAL"
`;

void t.test('setup, static skips and a phase-2 reset fold without changing an outcome', async (t) => {
  // 949059 writes the value tx.score already has at load: still a write, which 911100's
  // per-request += must keep after it (the reset runs in phase 2, after phase 1's scoring).
  same(t, SETUP, [{ query: 'a=fine' }, { query: 'a=evil' }, { query: 'a=bad' }, { query: 'a=worse' }, { query: 'a=evil&b=worse' }], 4);
  const crs = load(SETUP);
  t.same(run(crs, { query: 'a=bad' }).matchedIds, [], 'PL2 rule behind the static skip never runs');
  t.same(run(crs, { query: 'a=evil' }).tx.get('score'), '0', 'phase 2 reset the phase-1 score, as written');
  t.same(run(crs, { query: 'a=worse' }).matchedIds, [942100, 949110]);
});

void t.test('a ctl removal of a per-request rule keeps the rules it may remove from folding', async (t) => {
  const rules = `
SecRule REQUEST_FILENAME "@streq /health" "id:905100,phase:1,pass,nolog,ctl:ruleRemoveById=911013-911999"
SecRule TX:pl "@lt 2" "id:911013,phase:1,pass,nolog,skipAfter:END"
SecRule ARGS "@rx bad" "id:911110,phase:1,deny,log,severity:CRITICAL"
SecMarker "END"
SecRule ARGS "@rx evil" "id:920100,phase:1,deny,log,severity:CRITICAL"
`;
  same(t, rules, [{ path: '/health', query: 'a=bad' }, { path: '/x', query: 'a=bad' }, { path: '/health', query: 'a=evil' }], 0);
});

void t.test('clean sets: exclusions, ctl target removals and values seen before decide as the values do', async (t) => {
  const rules = `
SecRule REQUEST_FILENAME "@streq /x" "id:1,phase:1,pass,nolog,ctl:ruleRemoveTargetById=3;ARGS:a"
SecRule REQUEST_FILENAME "@streq /y" "id:2,phase:1,pass,nolog,ctl:ruleRemoveTargetById=3;REQUEST_FILENAME"
SecRule ARGS|REQUEST_FILENAME|!ARGS:note "@rx evil" "id:3,phase:1,deny,log,severity:CRITICAL"
`;
  const crs = load(rules);
  // Values sent first where the rule does not look (excluded, removed) must not count as clean after.
  const seq: [Req, number[]][] = [
    [{ path: '/p', query: 'note=evil&a=ok' }, []],
    [{ path: '/p', query: 'a=evil' }, [3]],
    [{ path: '/x', query: 'a=evil' }, []],
    [{ path: '/x', query: 'b=evil' }, [3]],
    [{ path: '/y', query: 'a=ok' }, []],
    [{ path: '/evil', query: 'a=ok' }, [3]],
    [{ path: '/p', query: 'note=evil&a=ok' }, []],
    [{ path: '/p', query: 'a=ok&note=ok' }, []],
    [{ path: '/p', query: 'a=ok&note=ok&c=evil' }, [3]],
  ];
  for (const round of [1, 2]) for (const [req, ids] of seq) t.same(run(crs, req).matchedIds, ids, `round ${round}: ${req.path}?${req.query}`);
});
