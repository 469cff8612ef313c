/**
 * Scope and role sets (src/auth/identity.ts): equal claim values share one set, so the
 * verified-token cache holds a few sets for thousands of tokens (issue 17 item 4), without
 * ever mixing up two different values.
 */
import t from 'tap';
import { SharedStringSets, stringSet } from '../../src/auth/identity.js';

void t.test('equal claim values give the same set; different values different sets', async (t) => {
  const sets = new SharedStringSets();
  const a = sets.of('read write');
  t.same([...a], ['read', 'write']);
  t.equal(sets.of('read write'), a, 'the same string: the same Set object');
  t.not(sets.of('read'), a);
  t.same([...sets.of(['admin', 'ops'])], ['admin', 'ops']);
  t.equal(sets.of(['admin', 'ops']), sets.of(['admin', 'ops']), 'arrays by content');
  // the string '["x"]' is one scope named ["x"], the array ["x"] the scope x
  t.same([...sets.of('["x"]')], ['["x"]']);
  t.same([...sets.of(['x'])], ['x']);
});

void t.test('no value, an empty value or a non-string is the one empty set', async (t) => {
  const sets = new SharedStringSets();
  t.equal(sets.of(undefined).size, 0);
  t.equal(sets.of(''), sets.of(undefined));
  t.equal(sets.of([]), sets.of(42));
  t.equal(stringSet('  '), sets.of(undefined), 'stringSet of nothing is that set too');
});

void t.test('past 1024 distinct values a token gets a set of its own, still right', async (t) => {
  const sets = new SharedStringSets();
  for (let i = 0; i < 1024; i++) sets.of(`scope-${i}`);
  t.equal(sets.of('scope-5'), sets.of('scope-5'), 'remembered ones stay shared');
  const late = sets.of('scope-late');
  t.same([...late], ['scope-late']);
  t.not(sets.of('scope-late'), late, 'not remembered: a fresh set each time');
});
