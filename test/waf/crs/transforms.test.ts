/** ModSecurity's transformations on byte strings (one char per byte), as CRS relies on them. */
import t from 'tap';
import { TRANSFORMS } from '../../../src/waf/crs/transforms.js';

const tf = (name: string, s: string): string => TRANSFORMS.get(name.toLowerCase())!(s);

void t.test('decoders', async (t) => {
  t.equal(tf('urlDecodeUni', 'a%20b+c%u0041%uff1c%zz%'), 'a b cA<%zz%', '%uXXXX keeps its low byte; full-width ASCII maps to ASCII; bad escapes stay');
  t.equal(tf('urlDecode', '%27%u0041'), "'%u0041", 'plain urlDecode leaves %u alone');
  t.equal(tf('htmlEntityDecode', '&lt;a&gt;&#x41;&#66;&quot;&amp;&nbsp;&bogus;&#x3c'), '<a>AB"&\xa0&bogus;<', 'semicolon optional');
  t.equal(tf('jsDecode', '\\x3cscript\\u003e\\101\\n\\q'), '<script>A\nq');
  t.equal(tf('cssDecode', 'j\\61 vascript:\\\nx\\000041'), 'javascript:xA');
  t.equal(tf('escapeSeqDecode', 'a\\x41\\101\\n\\\\'), 'aAA\n\\');
  t.equal(tf('base64Decode', 'PHNjcmlwdD4=!!'), '<script>', 'stops at the first non-base64 character');
  t.equal(tf('base64DecodeExt', 'PHN jcm!lwdD4='), '<script>', 'ext skips invalid characters');
  t.equal(tf('hexDecode', '3c7363'), '<sc');
  t.equal(tf('sqlHexDecode', 'select 0x414243'), 'select ABC');
  t.equal(tf('utf8toUnicode', 'a\xc3\xa9\xe2\x80\xa8'), 'a%u00e9%u2028', 'UTF-8 bytes → %uXXXX');
});

void t.test('normalisers', async (t) => {
  t.equal(tf('cmdLine', 'C:\\> "P^ing"  ,  /c ; Who\'ami'), 'c:> ping/c whoami', 'quotes, ^ and \\ removed; , ; and spaces fold; no space before /');
  t.equal(tf('compressWhitespace', 'a \t\n b\xa0\xa0c'), 'a b c');
  t.equal(tf('removeWhitespace', 'a b\tc\xa0d'), 'abcd');
  t.equal(tf('removeNulls', 'a\0b'), 'ab');
  t.equal(tf('replaceNulls', 'a\0b'), 'a b');
  t.equal(tf('replaceComments', 'un/**/ion/* x */sel/*ect'), 'un ion sel ');
  t.equal(tf('removeComments', 'a/*x*/b<!--y-->c--z\nd#e'), 'abc\nd');
  t.equal(tf('removeCommentsChar', 'a/*b*/c--d#e<!--f-->'), 'abcdef');
  t.equal(tf('normalizePath', '/a/./b/../../../etc//passwd'), '/etc/passwd');
  t.equal(tf('normalizePathWin', 'a\\..\\..\\win.ini'), '../win.ini');
  t.equal(tf('lowercase', 'ABC'), 'abc');
  t.equal(tf('length', 'abcd'), '4');
  t.equal(tf('trim', ' \tx \n'), 'x');
  t.equal(tf('hexEncode', 'AB'), '4142');
  t.equal(tf('sha1', 'abc').length, 20, 'sha1 is the binary digest');
});

void t.test('an unchanged value is returned as is (the engine caches by identity)', async (t) => {
  const s = 'plain value';
  for (const name of ['urlDecodeUni', 'htmlEntityDecode', 'jsDecode', 'cssDecode', 'compressWhitespace', 'removeNulls', 'replaceComments', 'utf8toUnicode']) {
    t.equal(tf(name, s), s, name);
  }
});
