import t from 'tap';
import { htmlEntityDecode, jsUnescape, urlDecodeOnce, urlDecodeRepeated } from '../../src/waf/decode.js';
import { collapseWhitespace, FormCache, pathNormalise, replaceSqlComments, shellNormalise } from '../../src/waf/forms.js';
import { Form } from '../../src/waf/rule.js';

void t.test('URL decoding: UTF-8, %u, overlong forms, repeated while it changes (bounded)', async (t) => {
  t.equal(urlDecodeOnce('a%20b%27'), "a b'");
  t.equal(urlDecodeOnce('%C3%A9t%C3%A9'), 'été');
  t.equal(urlDecodeOnce('%u003cscript'), '<script');
  t.equal(urlDecodeOnce('..%c0%af..%e0%80%af'), '../../', 'overlong slashes read as "/"');
  t.equal(urlDecodeOnce('100%'), '100%', 'a stray % stays');
  t.equal(urlDecodeOnce('%zz%4'), '%zz%4');
  t.equal(urlDecodeOnce('%ff'), '\ufffd');
  const s = 'plain';
  t.equal(urlDecodeOnce(s), s, 'nothing to decode: the same string');
  t.equal(urlDecodeRepeated('%252527'), "'", 'three rounds');
  t.equal(urlDecodeRepeated('%25252527'), '%27', 'at most three rounds');
});

void t.test('HTML entities (named, decimal, hex, without ;, double-encoded) and JS escapes', async (t) => {
  t.equal(htmlEntityDecode('&lt;script&gt;'), '<script>');
  t.equal(htmlEntityDecode('&#60;&#x3c;&#060'), '<<<');
  t.equal(htmlEntityDecode('&amp;lt;'), '<', 'two rounds');
  t.equal(htmlEntityDecode('Ben &amp; Jerry'), 'Ben & Jerry');
  t.equal(htmlEntityDecode('AT&T &unknown;'), 'AT&T &unknown;');
  t.equal(jsUnescape('\\u003cscript\\x3e\\u{2f}'), '<script>/');
  t.equal(jsUnescape('C:\\Users\\dana'), 'C:\\Users\\dana', 'not escapes: untouched');
});

void t.test('whitespace, SQL comments, shell and path normalisation', async (t) => {
  t.equal(collapseWhitespace('a \t\n b\u0000c'), 'a bc');
  t.equal(collapseWhitespace('a \n\n b', true), 'a\nb', 'line breaks kept for the shell form');
  const clean = 'a b';
  t.equal(collapseWhitespace(clean), clean);
  t.equal(replaceSqlComments('un/**/ion se/*x*/lect', ''), 'union select');
  t.equal(replaceSqlComments('a/*x*/b', ' '), 'a b');
  t.equal(replaceSqlComments('/*!50000union*/ select', ' '), ' union  select', 'MySQL executable comments keep their content');
  t.equal(replaceSqlComments("1' /* rest", ' '), "1'  ", 'an unclosed comment runs to the end');
  t.equal(shellNormalise("c''at${ifs}/e\\tc/pa\"ss\"wd"), 'cat /etc/passwd');
  t.equal(shellNormalise('127.0.0.1\r\nid'), '127.0.0.1\nid');
  t.equal(pathNormalise('....//....\\\\etc/./passwd'), '../../etc/passwd');
});

void t.test('FormCache: each form computed once per value, in lower case', async (t) => {
  const forms = new FormCache();
  forms.reset('%3CScRiPt%3E &#x41; UN/**/ION');
  const norm = forms.get(Form.Norm);
  t.equal(norm, '<script> a un/**/ion');
  t.equal(forms.get(Form.Norm), norm, 'cached: the same string instance');
  t.equal(forms.get(Form.SqlStrip), '<script> a union');
  t.equal(forms.get(Form.Lower), '%3cscript%3e &#x41; un/**/ion');
  forms.reset('＜ＳＣＲＩＰＴ＞');
  t.equal(forms.get(Form.Decoded), '<script>', 'NFKC folds fullwidth look-alikes');
});
