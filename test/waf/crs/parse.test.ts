/**
 * The SecLang loader: bad rule files fail with the file and the line; what the engine cannot run
 * is skipped and reported by rule id; PCRE syntax becomes the equivalent JS pattern.
 */
import t from 'tap';
import { join } from 'node:path';
import { CrsSyntaxError, lex } from '../../../src/waf/crs/lexer.js';
import { loadCrs } from '../../../src/waf/crs/loader.js';
import { translatePcre } from '../../../src/waf/crs/pcre.js';
import { checkSafety } from '../../../src/waf/crs/safety.js';
import { ruleDir } from '../../helpers/crs.js';
import { load } from './helpers.js';

function loadError(text: string): CrsSyntaxError {
  try {
    load(text);
  } catch (err) {
    if (err instanceof CrsSyntaxError) return err;
    throw err;
  }
  throw new Error('loaded without an error');
}

void t.test('continuation lines, comments and quoting', async (t) => {
  const ds = lex('# comment\n\nSecRule ARGS "@rx a\\"b" \\\n    "id:1,\\\n    phase:1,pass"\nSecMarker END\n', 'x.conf');
  t.equal(ds.length, 2);
  t.same(ds[0]!.args, ['ARGS', '@rx a"b', 'id:1,    phase:1,pass'], '\\" is the only escape; continuations join');
  t.equal(ds[0]!.line, 3);
  t.equal(ds[1]!.line, 6);
});

void t.test('a bad rule file names the file and the line', async (t) => {
  const cases: [string, number, RegExp][] = [
    ['SecRule ARGS "@rx a" "id:1,phase:2,pass\n', 1, /unterminated double-quoted/],
    ['\n\nSecRule ARGS "@rx a" "id:1,phase:2,bogus"\n', 3, /unknown action bogus/],
    ['SecRule ARGS "@rx a" "phase:2,pass"\n', 1, /rule without an id/],
    ['SecRule ARGS "@rx a" "id:1,phase:9,pass"\n', 1, /bad phase/],
    ['SecRule ARGS "@rx a" "id:1,phase:2,t:nosuch"\n', 1, /unknown transformation/],
    ['SecRule ARGS|| "@rx a" "id:1,phase:2,pass"\n', 1, /expected a variable name/],
    ['SecRul ARGS "@rx a" "id:1"\n', 1, /unknown directive SecRul/],
    ['SecRule ARGS "@rx a" "id:1,phase:2,pass"\n\nSecRule ARGS "@rx a" "id:2,phase:2,pass,chain"\n', 3, /chain without its next rule/],
    ['SecRule ARGS "@validateByteRange 1-300" "id:1,phase:2,pass"\n', 1, /bad @validateByteRange/],
    ['SecRule ARGS "@rx a" "id:1,phase:2,chain"\n  SecRule ARGS "@rx b" "id:2"\n', 2, /may not have its own id/],
  ];
  for (const [text, line, message] of cases) {
    const err = loadError(text);
    t.equal(err.line, line, `${message} at line ${line}`);
    t.match(err.message, message);
    t.match(err.message, /rules\.conf:\d+: /, 'the message starts with file:line');
  }
});

void t.test('what cannot run is skipped and reported once, by rule id', async (t) => {
  const crs = load([
    'SecRule REMOTE_ADDR "@rbl dnsbl.example" "id:10,phase:1,block,severity:CRITICAL"',
    'SecRule RESPONSE_BODY "@rx x" "id:11,phase:4,block,severity:CRITICAL"',
    'SecRule REQUEST_HEADERS "@rx x" "id:12,phase:3,block"',
    'SecRule ARGS "@rx a" "id:13,phase:2,chain"',
    '  SecRule REMOTE_ADDR "@geoLookup" ""',
    'SecRule ARGS "@rx ok" "id:14,phase:2,block,severity:CRITICAL"',
  ].join('\n'));
  t.same(crs.skipped.map((s) => s.id), [10, 11, 12, 13]);
  t.match(crs.skipped.find((s) => s.id === 10)!.reason, /@rbl is not supported/);
  t.match(crs.skipped.find((s) => s.id === 11)!.reason, /RESPONSE_BODY/);
  t.match(crs.skipped.find((s) => s.id === 12)!.reason, /phase 3/);
  t.match(crs.skipped.find((s) => s.id === 13)!.reason, /@geoLookup/, 'a chain is skipped whole');
  t.equal(crs.ruleCount, 1);
});

void t.test('a missing directory or data file is a load error naming the path', async (t) => {
  t.throws(() => loadCrs({ rulesDir: '/nonexistent/crs', paranoia: 1, anomalyThreshold: 5 }), { code: 'PORTCULLIS_ERR_CRS_LOAD', message: /\/nonexistent\/crs is not a directory/ });
  const dir = ruleDir({ 'a.conf': 'SecRule ARGS "@pmFromFile missing.data" "id:1,phase:2,pass"\n' });
  t.throws(() => loadCrs({ rulesDir: dir, paranoia: 1, anomalyThreshold: 5 }), { message: new RegExp(`cannot read ${join(dir, 'missing.data')}`) });
});

void t.test('PCRE syntax becomes JavaScript', async (t) => {
  const cases: [string, string, string][] = [
    ['(?i)union\\s+select', '[\\t-\\r ]', 'i'],
    ['^(?i:file|ftps?).*?\\?+$', '(?:file|ftps?)', 'i'],
    ['\\Aabc\\z', '^abc$', ''],
    ['a*+b', '(?=(a*))\\1b', ''],
    ['(?>ab|a)c', '(?=(ab|a))\\1c', ''],
    ['(x)(?:y)*+', '(x)(?=((?:y)*))\\2', ''],
    ['(?:(y))*+', '(?=((?:(y))*))\\1', ''],
    ['[]a]', '[\\]a]', ''],
    ['[[:alpha:]]+', '[a-zA-Z]+', ''],
    ['\\x{41}\\x{2028}', '\\x41\\u2028', ''],
    ['(?s)a.b', 'a.b', 's'],
  ];
  for (const [pcre, contains, flags] of cases) {
    const out = translatePcre(pcre);
    t.ok(out.source.includes(contains), `${pcre} → ${out.source}`);
    t.equal(out.flags, flags, `${pcre} flags`);
  }
  // The translations behave as PCRE does.
  const possessive = translatePcre('a*+a');
  t.notOk(new RegExp(possessive.source).test('aaa'), 'a*+a cannot give a character back, as in PCRE');
  t.ok(new RegExp(translatePcre('\\Aab\\z').source).test('ab'));
  t.notOk(new RegExp(translatePcre('\\Aab\\z').source).test('ab\n'), '\\z is the very end');
  t.ok(new RegExp(translatePcre('\\Aab\\Z').source).test('ab\n'), '\\Z allows a final newline');
  t.notOk(new RegExp(translatePcre('a\\sb').source).test('a\xa0b'), '\\s is not NBSP in PCRE');
});

void t.test('linear-time safety: nested unbounded quantifiers and backreferences are unproven', async (t) => {
  t.ok(checkSafety(translatePcre('(?i)\\bunion\\b[^a-z]*select').source).proven);
  t.ok(checkSafety(translatePcre('a*+b').source).proven, 'the atomic idiom’s backreference is not a real one');
  t.notOk(checkSafety('(?:a+)+b').proven);
  t.notOk(checkSafety('(a)\\1').proven);
  const crs = load('SecRule ARGS "@rx (?:x+y?)+$" "id:5,phase:2,block,severity:CRITICAL"\nSecRule ARGS "@rx ab+c" "id:6,phase:2,block,severity:CRITICAL"');
  t.same(crs.bounded, [5], 'reported at load');
});
