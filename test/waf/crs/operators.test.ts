/** The operators CRS uses, compiled as the loader compiles them. */
import t from 'tap';
import { compileOperator, UnsupportedOperator, type MatchContext } from '../../../src/waf/crs/operators.js';
import type { MacroRef } from '../../../src/waf/crs/macro.js';

const files = { readPhraseFile: (name: string) => (name === 'words.data' ? ['passwd', 'Shadow', '# not a comment here'] : []) };

function ctx(tx: Record<string, string> = {}): MatchContext & { captures: string[] } {
  const captures: string[] = [];
  return {
    captures,
    capture: (i, v) => (captures[i] = v),
    macroValue: (ref: MacroRef) => (ref.collection === 'TX' ? tx[ref.key ?? ''] ?? '' : ''),
  };
}
const m = (op: string, arg: string, value: string, tx: Record<string, string> = {}): boolean => compileOperator(op, arg, files).match(value, ctx(tx), false);

void t.test('string and number operators, with macros', async (t) => {
  t.ok(m('rx', '(?i)^sel', 'SELECT'));
  t.notOk(m('rx', '^sel', 'SELECT'));
  t.ok(m('streq', 'POST', 'POST'));
  t.notOk(m('streq', 'POST', 'post'));
  t.ok(m('contains', 'ab', 'xaby'));
  t.ok(m('beginsWith', '/adm', '/admin'));
  t.ok(m('endsWith', '.php', 'x.php'));
  t.ok(m('within', '%{tx.allowed_methods}', 'PUT', { allowed_methods: 'GET PUT' }));
  t.notOk(m('within', '%{tx.allowed_methods}', 'TRACE', { allowed_methods: 'GET PUT' }));
  t.notOk(m('within', 'GET', ''), 'an empty value is not within');
  t.ok(m('eq', '0', ''), 'a non-number reads as 0, as atoi does');
  t.ok(m('ge', '%{tx.threshold}', '5', { threshold: '5' }));
  t.ok(m('gt', '4', '5'));
  t.ok(m('lt', '10', '9'));
  t.ok(m('le', '9', '9'));
  t.ok(m('rx', '^%{tx.prefix}-\\d+$', 'ab-12', { prefix: 'ab' }), 'a pattern with a macro is compiled per expansion');
  t.ok(m('unconditionalMatch', '', 'x'));
  t.notOk(m('noMatch', '', 'x'));
});

void t.test('@pm and @pmFromFile: phrases, case-insensitive, one automaton', async (t) => {
  t.ok(m('pm', 'union select', 'x UNION y'));
  t.notOk(m('pm', 'union select', 'unio'));
  t.ok(m('pmFromFile', 'words.data', '/etc/SHADOW'));
  t.notOk(m('pmFromFile', 'words.data', '# not a comment'), 'the loader strips comment lines, not the operator');
  const c = ctx();
  t.ok(compileOperator('pm', 'alpha beta', files).match('xxBETAxx', c, true));
  t.equal(c.captures[0], 'beta', 'capture gives the phrase found');
  const many = Array.from({ length: 100 }, (_, i) => `word${i}x`);
  const pm = compileOperator('pm', many.join(' '), files);
  t.ok(pm.match('...WORD77X...', ctx(), false), 'phrases past the first 32 (more than one bit-set word)');
});

void t.test('validation operators', async (t) => {
  t.ok(m('validateByteRange', '32-126', 'ab\x01'));
  t.notOk(m('validateByteRange', '32-126', 'abc'));
  t.ok(m('validateByteRange', '1-255', 'a\0b'), 'a NUL outside 1-255');
  t.ok(m('validateUrlEncoding', '', 'a%2'));
  t.ok(m('validateUrlEncoding', '', 'a%zz'));
  t.notOk(m('validateUrlEncoding', '', 'a%2F'));
  t.ok(m('validateUtf8Encoding', '', 'a\xc3'), 'truncated sequence');
  t.ok(m('validateUtf8Encoding', '', '\xc0\xaf'), 'overlong /');
  t.notOk(m('validateUtf8Encoding', '', 'caf\xc3\xa9'));
  t.ok(m('ipMatch', '127.0.0.1,10.0.0.0/8,::1', '10.2.3.4'));
  t.notOk(m('ipMatch', '127.0.0.1,10.0.0.0/8', '192.0.2.1'));
  t.ok(m('ipMatch', '::1', '::1'));
});

void t.test('captures of @rx fill TX.0 …', async (t) => {
  const c = ctx();
  t.ok(compileOperator('rx', '^([a-z]+)/([a-z]+)', files).match('text/html', c, true));
  t.same(c.captures, ['text/html', 'text', 'html']);
});

void t.test('operators it does not run are refused as unsupported', async (t) => {
  for (const [op, message] of [['geoLookup', /@geoLookup is not supported/], ['rbl', /@rbl is not supported/], ['nosuch', /unknown operator @nosuch/]] as const) {
    let caught: unknown = null;
    try {
      compileOperator(op, 'x', files);
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof UnsupportedOperator, `@${op} is unsupported`);
    t.match((caught as Error).message, message);
  }
});
