/**
 * The evaluator on rule sets of the test's own (CRS's structure, not CRS's text): chains,
 * skipAfter/SecMarker, setvar and macros, ctl removals, anomaly scoring with a 949110-style
 * blocking rule, exclusion files, and the request and body variables.
 */
import t from 'tap';
import { load, run } from './helpers.js';
import { ruleDir } from '../../helpers/crs.js';
import { join } from 'node:path';

/** CRS's scoring shape: rules add to tx.score; 949110-style rule denies at the threshold. */
const SCORING = `
SecAction "id:900,phase:1,pass,nolog,setvar:tx.score=0"
SecRule ARGS "@rx (?i)union\\s+select" "id:100,phase:2,block,severity:CRITICAL,t:none,t:urlDecodeUni,setvar:'tx.score=+5'"
SecRule ARGS "@rx <script" "id:101,phase:2,block,severity:WARNING,t:none,t:lowercase,setvar:'tx.score=+3'"
SecRule TX:score "@ge %{tx.inbound_anomaly_score_threshold}" "id:949110,phase:2,deny,t:none,log,msg:'score %{tx.score}'"
`;

void t.test('anomaly scoring: each match adds, the evaluation rule denies at the threshold', async (t) => {
  const crs = load(SCORING);
  const clean = run(crs, { query: 'q=hello' });
  t.same([clean.interrupted, clean.matchedIds, clean.tx.get('score')], [false, [], '0']);
  const warn = run(crs, { query: 'q=%3CSCRIPT%3E' });
  t.same([warn.interrupted, warn.matchedIds, warn.tx.get('score')], [false, [101], '3'], 'a warning alone stays under 5');
  const two = run(crs, { query: 'a=<script>&b=<Script>' });
  t.equal(two.tx.get('score'), '6', 'setvar runs once per matching value, as ModSecurity runs it');
  t.equal(two.interrupted, true);
  const sqli = run(crs, { query: 'q=1%20UNION%20SELECT%20x' });
  t.same([sqli.interrupted, sqli.matchedIds], [true, [100]]);
});

void t.test('chains: every link must match; MATCHED_VARS carry the transformed value on', async (t) => {
  const crs = load(`
SecRule ARGS_NAMES|ARGS "@rx clonetransformer" "id:200,phase:2,block,severity:CRITICAL,t:none,t:lowercase,chain"
  SecRule MATCHED_VARS "@rx processbuilder" "setvar:'tx.hit=+1'"
SecRule REQUEST_METHOD "@streq POST" "id:201,phase:1,block,severity:NOTICE,chain"
  SecRule &REQUEST_HEADERS:Content-Type "@eq 0" ""
`);
  t.same(run(crs, { query: 'ProcessBuilder.CloneTransformer=1' }).matchedIds, [200], 'second link sees the lower-cased name');
  t.same(run(crs, { query: 'CloneTransformer=1' }).matchedIds, [], 'first link alone is no match');
  t.same(run(crs, { method: 'POST' }).matchedIds, [201]);
  t.same(run(crs, { method: 'POST', headers: [['Content-Type', 'text/plain']] }).matchedIds, []);
});

void t.test('skipAfter jumps to the marker; skip counts rules', async (t) => {
  const crs = load(`
SecRule TX:blocking_paranoia_level "@lt 2" "id:300,phase:2,pass,nolog,skipAfter:END-PL2"
SecRule ARGS "@rx x" "id:301,phase:2,block,severity:CRITICAL"
SecMarker "END-PL2"
SecRule ARGS "@rx x" "id:302,phase:2,block,severity:CRITICAL,skip:1"
SecRule ARGS "@rx x" "id:303,phase:2,block,severity:CRITICAL"
SecRule ARGS "@rx x" "id:304,phase:2,block,severity:CRITICAL"
`);
  t.same(run(crs, { query: 'a=x' }).matchedIds, [302, 304], 'paranoia 1 skips 301; skip:1 skips 303');
  const pl2 = load(`
SecRule TX:blocking_paranoia_level "@lt 2" "id:300,phase:2,pass,nolog,skipAfter:END-PL2"
SecRule ARGS "@rx x" "id:301,phase:2,block,severity:CRITICAL"
SecMarker "END-PL2"
`, {}, { paranoia: 2 });
  t.same(run(pl2, { query: 'a=x' }).matchedIds, [301], 'waf.crs.paranoia reaches tx.blocking_paranoia_level');
});

void t.test('ctl: ruleRemoveTargetById, ruleRemoveById, ruleRemoveByTag, ruleEngine', async (t) => {
  const crs = load(`
SecRule REQUEST_FILENAME "@beginsWith /cms" "id:1001,phase:1,pass,nolog,ctl:ruleRemoveTargetById=400;ARGS:body"
SecRule REQUEST_FILENAME "@beginsWith /upload" "id:1002,phase:1,pass,nolog,ctl:ruleRemoveById=400-401"
SecRule REQUEST_FILENAME "@beginsWith /tagged" "id:1003,phase:1,pass,nolog,ctl:ruleRemoveByTag=attack-xss"
SecRule REQUEST_FILENAME "@beginsWith /health" "id:1004,phase:1,pass,nolog,ctl:ruleEngine=Off"
SecRule ARGS "@rx <script" "id:400,phase:2,block,severity:CRITICAL,tag:'attack-xss'"
SecRule ARGS "@rx <script" "id:401,phase:2,block,severity:CRITICAL"
`);
  t.same(run(crs, { path: '/cms/page', query: 'body=<script>' }).matchedIds, [401], '400 no longer reads ARGS:body');
  t.same(run(crs, { path: '/cms/page', query: 'title=<script>' }).matchedIds, [400, 401], 'but still reads other arguments');
  t.same(run(crs, { path: '/upload', query: 'a=<script>' }).matchedIds, [], 'an id range');
  t.same(run(crs, { path: '/tagged', query: 'a=<script>' }).matchedIds, [401], 'by tag');
  t.same(run(crs, { path: '/health', query: 'a=<script>' }).matchedIds, [], 'rule engine off');
});

void t.test('the rule’s own exclusions and configure-time exclusion files', async (t) => {
  const rules = `
SecRule REQUEST_COOKIES|!REQUEST_COOKIES:/^_ga/|ARGS "@rx evil" "id:500,phase:2,block,severity:CRITICAL"
SecRule ARGS "@rx evil" "id:501,phase:2,block,severity:CRITICAL"
`;
  const crs = load(rules);
  t.same(run(crs, { headers: [['Cookie', '_ga=evil; sid=ok']] }).matchedIds, [], '!REQUEST_COOKIES:/^_ga/');
  t.same(run(crs, { headers: [['Cookie', 'sid=evil']] }).matchedIds, [500]);
  const dir = ruleDir({ 'x.conf': 'SecRuleUpdateTargetById 500 "!ARGS:note"\nSecRuleRemoveById 501\n' });
  const tuned = load(rules, {}, { exclusions: [join(dir, 'x.conf')] });
  t.same(run(tuned, { query: 'note=evil' }).matchedIds, [], 'SecRuleUpdateTargetById and SecRuleRemoveById apply after the rules load');
  t.same(run(tuned, { query: 'other=evil' }).matchedIds, [500]);
});

void t.test('macros, setvar forms and captures', async (t) => {
  const crs = load(`
SecAction "id:600,phase:1,pass,nolog,setvar:tx.a=10,setvar:tx.b=%{tx.a},setvar:!tx.gone,setvar:tx.flag"
SecRule REQUEST_HEADERS:Content-Type "@rx ^([^;]+)" "id:601,phase:1,pass,nolog,capture,setvar:'tx.ct=|%{tx.1}|'"
SecRule TX:ct "!@within |application/json| |text/plain|" "id:602,phase:1,block,severity:CRITICAL,msg:'bad %{MATCHED_VAR}'"
SecAction "id:603,phase:1,pass,nolog,setvar:tx.a=-3"
`);
  const ok = run(crs, { headers: [['Content-Type', 'application/json; charset=utf-8']] });
  t.same([ok.tx.get('a'), ok.tx.get('b'), ok.tx.get('flag'), ok.tx.get('ct'), ok.matchedIds], ['7', '10', '1', '|application/json|', []]);
  t.same(run(crs, { headers: [['Content-Type', 'application/x-evil']] }).matchedIds, [602]);
});

void t.test('detect mode keeps evaluating after a deny; block mode stops', async (t) => {
  const crs = load(`
SecRule ARGS "@rx deny" "id:700,phase:1,deny,log,severity:CRITICAL"
SecRule ARGS "@rx deny" "id:701,phase:1,block,severity:CRITICAL"
`);
  t.same(run(crs, { query: 'a=deny' }, true).matchedIds, [700]);
  const detect = run(crs, { query: 'a=deny' }, false);
  t.same([detect.interrupted, detect.matchedIds], [true, [700, 701]]);
});

void t.test('body variables: urlencoded, JSON as ModSecurity names it, multipart, XML', async (t) => {
  const crs = load(`
SecRule ARGS_POST:json.user.name "@rx evil" "id:800,phase:2,block,severity:CRITICAL"
SecRule ARGS_NAMES "@streq json.list.array_1" "id:801,phase:2,block,severity:CRITICAL"
SecRule FILES "@rx \\.php$" "id:802,phase:2,block,severity:CRITICAL"
SecRule MULTIPART_PART_HEADERS "@rx ^content-type\\s*:\\s*x-evil" "id:803,phase:2,block,severity:CRITICAL,t:lowercase"
SecRule XML:/* "@rx <evil>" "id:804,phase:2,block,severity:CRITICAL"
SecRule XML://@* "@rx onload=" "id:805,phase:2,block,severity:CRITICAL"
SecRule REQUEST_BODY "@rx evil" "id:806,phase:2,block,severity:CRITICAL"
SecRule REQBODY_PROCESSOR "@streq JSON" "id:807,phase:1,pass,nolog,setvar:tx.json=1"
`);
  const json = run(crs, { method: 'POST', headers: [['Content-Type', 'application/json']], body: '{"user":{"name":"evil"},"list":["x","y"]}' });
  t.same(json.matchedIds, [800, 801], 'key paths are json.a.b and json.list.array_1; REQUEST_BODY is not the raw JSON (ModSecurity 2)');
  t.equal(json.tx.get('json'), '1', 'REQBODY_PROCESSOR is known in phase 1');
  t.same(run(crs, { method: 'POST', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: 'a=evil' }).matchedIds, [806], 'REQUEST_BODY for a form');
  const boundary = 'XyZ';
  const mp = `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="shell.php"\r\nContent-Type: x-evil\r\n\r\n<?php ?>\r\n--${boundary}--\r\n`;
  t.same(run(crs, { method: 'POST', headers: [['Content-Type', `multipart/form-data; boundary=${boundary}`]], body: mp }).matchedIds, [802, 803]);
  const xml = '<?xml version="1.0"?><a x="onload=1">&lt;evil&gt;</a>';
  t.same(run(crs, { method: 'POST', headers: [['Content-Type', 'application/xml']], body: xml }).matchedIds, [804, 805], 'text and attributes, entities decoded');
});

void t.test('the prefilter never changes an outcome', async (t) => {
  const rules = `
SecRule ARGS "@rx (?i)\\b(?:union|select)\\b.{0,40}from" "id:900,phase:2,block,severity:CRITICAL,t:none,t:urlDecodeUni,t:lowercase"
SecRule ARGS "@rx etc/passwd" "id:901,phase:2,block,severity:CRITICAL,t:none,t:normalizePath"
`;
  const crs = load(rules);
  t.ok(crs.evaluator.prefiltered >= 2, 'both patterns have required literals');
  const without = load(rules, {}, { prefilter: false });
  t.equal(without.evaluator.prefiltered, 0);
  const expected: Record<string, number[]> = {
    'a=select%20x%20from%20y': [900], 'a=/etc/./passwd': [901], 'a=seLect%2520from': [900], 'a=select%2Bnothing': [], 'a=harmless': [], 'a=/etc/x/../passwd': [901],
  };
  for (const [q, ids] of Object.entries(expected)) {
    t.same(run(crs, { query: q }).matchedIds, ids, q);
    t.same(run(without, { query: q }).matchedIds, ids, `${q} without the prefilter`);
  }
});

void t.test('@pm phrases and @contains/@streq/@beginsWith/@endsWith arguments join the prefilter without changing an outcome', async (t) => {
  const rules = `
SecRule ARGS "@pm Sleep Benchmark" "id:910,phase:2,block,severity:CRITICAL,capture,t:none,t:urlDecodeUni,setvar:tx.pm_hit=%{tx.0}"
SecRule ARGS "@contains ../" "id:911,phase:2,block,severity:CRITICAL,t:none,t:urlDecodeUni"
SecRule ARGS "@streq Admin" "id:912,phase:2,block,severity:CRITICAL,t:none"
SecRule ARGS "@beginsWith /etc" "id:913,phase:2,block,severity:CRITICAL,t:none,t:urlDecodeUni,t:normalizePath"
SecRule ARGS "@endsWith .php" "id:914,phase:2,block,severity:CRITICAL,t:none,t:lowercase"
SecRule ARGS "@pm café" "id:915,phase:2,block,severity:CRITICAL,t:none"
SecRule ARGS "!@contains ok" "id:916,phase:2,block,severity:CRITICAL,t:none"
`;
  const crs = load(rules);
  // 910, 911, 912, 913, 914: five; 915 has a non-ASCII phrase and 916 is negated, so they always run.
  t.equal(crs.evaluator.prefiltered, 5, 'the operators with ASCII literals, negation and non-ASCII phrases left out');
  const without = load(rules, {}, { prefilter: false });
  const expected: Record<string, number[]> = {
    'a=ok+SLEEP%2810%29': [910], 'a=ok..%2F..%2Fx': [911], 'a=Admin': [912, 916], 'a=ok+admin': [], 'a=%2Fetc%2F.%2Fpasswd': [913, 916],
    'a=ok+x.PHP': [914], 'a=ok+caf%C3%A9': [915], 'a=ok+harmless': [], 'a=ok+.ph': [],
  };
  for (const [q, ids] of Object.entries(expected)) {
    t.same(run(crs, { query: q }).matchedIds, ids, q);
    t.same(run(without, { query: q }).matchedIds, ids, `${q} without the prefilter`);
  }
  t.equal(run(crs, { query: 'a=ok+benchmark(1)' }).tx.get('pm_hit'), 'benchmark', 'the capture of a prefiltered @pm is its phrase');
});

void t.test('the views made on first read (ARGS, ARGS_NAMES, *_NAMES) hold what the collections do, the body included', async (t) => {
  const crs = load(`
SecRule ARGS "@streq never" "id:919,phase:1,pass,log,severity:CRITICAL"
SecRule ARGS_GET_NAMES "@streq qn" "id:920,phase:1,pass,log,severity:CRITICAL"
SecRule REQUEST_HEADERS_NAMES "@streq X-Probe" "id:921,phase:1,pass,log,severity:CRITICAL"
SecRule REQUEST_COOKIES_NAMES "@streq sid" "id:922,phase:1,pass,log,severity:CRITICAL"
SecRule ARGS_POST_NAMES "@streq pn" "id:923,phase:2,pass,log,severity:CRITICAL"
SecRule ARGS_NAMES "@rx ^(?:qn|pn)$" "id:924,phase:2,pass,log,severity:CRITICAL,setvar:tx.names=+1"
SecRule ARGS "@rx ^(?:qv|pv)$" "id:925,phase:2,pass,log,severity:CRITICAL,setvar:tx.args=+1,setvar:tx.last=%{MATCHED_VAR_NAME}"
`);
  const tx = run(crs, {
    method: 'POST', query: 'qn=qv',
    headers: [['Host', 'example.test'], ['X-Probe', '1'], ['Cookie', 'sid=abc'], ['Content-Type', 'application/x-www-form-urlencoded']],
    body: 'pn=pv',
  });
  t.same(tx.matchedIds, [920, 921, 922, 923, 924, 925]);
  t.equal(tx.tx.get('names'), '2', 'ARGS_NAMES: the query\'s name and the body\'s');
  t.equal(tx.tx.get('args'), '2');
  t.equal(tx.tx.get('last'), 'ARGS:pn', 'ARGS is ARGS_GET then ARGS_POST, named ARGS:, made again when the body arrived (919 read it in phase 1)');
  t.same(run(crs, { query: 'x=1' }).matchedIds, [], 'nothing when the names are absent');
});

void t.test('the plain-value shortcut only skips chains that leave a plain value as it is', async (t) => {
  const crs = load(`
SecRule ARGS "@rx union" "id:950,phase:2,block,severity:CRITICAL,t:none,t:removeWhitespace"
SecRule ARGS "@rx select" "id:951,phase:2,block,severity:CRITICAL,t:none,t:removeCommentsChar"
SecRule ARGS "@rx abc" "id:952,phase:2,block,severity:CRITICAL,t:none,t:hexDecode"
SecRule ARGS "@rx union" "id:953,phase:2,block,severity:CRITICAL,t:none,t:urlDecodeUni,t:lowercase"
`);
  t.same(run(crs, { query: 'a=un%20ion' }).matchedIds, [950], 'removeWhitespace joins "un ion" (a plain value) into a literal');
  t.same(run(crs, { query: 'a=sel--ect' }).matchedIds, [951], 'removeCommentsChar joins "sel--ect"');
  t.same(run(crs, { query: 'a=616263' }).matchedIds, [952], 'hexDecode makes letters of digits');
  t.same(run(crs, { query: 'a=UNION' }).matchedIds, [953], 'case is the prefilter’s to ignore');
});
