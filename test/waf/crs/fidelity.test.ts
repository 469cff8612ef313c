/**
 * Where the engine once differed from ModSecurity + CRS 4 on benign traffic (issue 18, found by
 * replaying the benign corpora through nginx + libmodsecurity 3 and comparing the rule ids):
 * what the body processors put in ARGS. Each case failed before its fix.
 */
import t from 'tap';
import { load, run } from './helpers.js';

/** The request body as the helper takes it: one char per byte. */
const bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

void t.test('JSON: characters reach the rules as UTF-8 bytes, escaped or raw (yajl)', async (t) => {
  const crs = load(`
SecRule ARGS "@validateUtf8Encoding" "id:810,phase:2,block,severity:WARNING"
SecRule ARGS:json.c "@rx ^L'Or\\xc3\\xa9al$" "id:811,phase:2,pass,severity:NOTICE"
SecRule ARGS:json.k "@rx ^\\xe3\\x83\\xaa$" "id:812,phase:2,pass,severity:NOTICE"
`);
  const json = [['Content-Type', 'application/json']] as [string, string][];
  t.same(run(crs, { method: 'POST', headers: json, body: '{"c":"L\'Or\\u00e9al","k":"\\u30ea"}' }).matchedIds, [811, 812],
    'a \\u00e9 escape is the bytes C3 A9, not a lone E9 that 920250 calls invalid UTF-8');
  t.same(run(crs, { method: 'POST', headers: json, body: bytes('{"c":"L\'Oréal","k":"リ"}') }).matchedIds, [811, 812], 'raw UTF-8: the same bytes');
  t.same(run(crs, { method: 'POST', headers: json, body: '{"c":"L\'Or\xe9al"}' }).matchedIds, [810], 'a body that is not UTF-8 keeps its invalid byte for the rules');
});

void t.test('multipart: an uploaded file is in FILES, its content not in ARGS (ModSecurity stores it apart)', async (t) => {
  const crs = load(`
SecRule ARGS "@rx (?i)select" "id:820,phase:2,block,severity:CRITICAL"
SecRule FILES "@rx \\.txt$" "id:821,phase:2,pass,severity:NOTICE"
SecRule ARGS_NAMES "@streq title" "id:822,phase:2,pass,severity:NOTICE"
`);
  const b = 'bnd';
  const headers = [['Content-Type', `multipart/form-data; boundary=${b}`]] as [string, string][];
  const file = `--${b}\r\nContent-Disposition: form-data; name="title"\r\n\r\nQ3 plan\r\n--${b}\r\nContent-Disposition: form-data; name="file"; filename="notes.txt"\r\nContent-Type: text/plain\r\n\r\nTodo: select vendors\r\n--${b}--\r\n`;
  t.same(run(crs, { method: 'POST', headers, body: file }).matchedIds, [821, 822], 'the file is named, its text is not an argument');
  const field = `--${b}\r\nContent-Disposition: form-data; name="file"; filename="notes.txt"\r\n\r\nx\r\n--${b}\r\nContent-Disposition: form-data; name="title"\r\n\r\nselect vendors\r\n--${b}--\r\n`;
  t.same(run(crs, { method: 'POST', headers, body: field }).matchedIds, [820, 821, 822], 'a form field after a file is still an argument');
});

void t.test('JSON: every scalar is an argument, arrays named array_N (libmodsecurity 3.0.9)', async (t) => {
  const crs = load(`
SecRule ARGS_NAMES "@rx (?i)\\$exists\\b" "id:830,phase:2,block,severity:CRITICAL"
SecRule ARGS:json.a.array_1.b "@streq true" "id:831,phase:2,pass,severity:NOTICE"
SecRule ARGS:json.o.k "@streq 2.50" "id:832,phase:2,pass,severity:NOTICE"
SecRule &ARGS:json.n "@eq 1" "id:833,phase:2,pass,severity:NOTICE"
SecRule ARGS:json.n "!@rx ." "id:834,phase:2,pass,severity:NOTICE"
SecRule &ARGS_NAMES:/^json\\.e/ "@eq 0" "id:835,phase:2,pass,severity:NOTICE"
SecRule ARGS:json.a.array_2 "@streq s" "id:836,phase:2,pass,severity:NOTICE"
`);
  const json = [['Content-Type', 'application/json']] as [string, string][];
  t.same(run(crs, { method: 'POST', headers: json, body: '{"user": {"$exists": true}}' }).matchedIds, [830, 835],
    'a key whose value is a boolean is still a name (CRS test 942290-10)');
  t.same(run(crs, { method: 'POST', headers: json, body: '{"a":[1,{"b":true},"s"],"n":null,"o":{"k":2.50},"e":[]}' }).matchedIds, [831, 832, 833, 834, 835, 836],
    'booleans and numbers keep their text, null is empty, an empty array gives nothing');
  t.same(run(crs, { method: 'POST', headers: json, body: '{"a":[1,{"b":true},"s"' }).matchedIds, [831, 835, 836], 'a body cut short still gives what it holds');
});

void t.test('@detectSQLi / @detectXSS answer with the built-in SQL-injection and XSS families', async (t) => {
  const crs = load(`
SecRule ARGS "@detectSQLi" "id:840,phase:2,block,capture,severity:CRITICAL,t:none,t:urlDecodeUni,setvar:'tx.fp=%{tx.0}'"
SecRule ARGS "@detectXSS" "id:841,phase:2,block,severity:CRITICAL,t:none,t:urlDecodeUni"
`);
  t.same(crs.skipped, [], 'both rules load and run');
  const sqli = run(crs, { query: 'id=-1839%27%20or%20%271%27%3D%271' });
  t.same(sqli.matchedIds, [840]);
  t.match(sqli.tx.get('fp'), /^waf-rule-942\d{3}$/, 'TX.0 names the built-in rule that answered');
  t.same(run(crs, { query: 'q=%3Csvg%20onload%3Dalert(1)%3E' }).matchedIds, [841]);
  for (const q of ["msg=The%20'Select'%20and%20'Update'%20buttons%20don't%20work", "name=L'Or%C3%A9al", 'q=a%20%3C%20b%20and%20c%20%3E%20d', 'bio=I%20%3C3%20cats'])
    t.same(run(crs, { query: q }).matchedIds, [], `benign: ${decodeURIComponent(q)}`);
});
