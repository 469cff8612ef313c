import t from 'tap';
import { negatives, positives } from './table.js';
import { T_NAME } from '../../../src/waf/rule.js';

void t.test('SQL injection shapes are caught', async (t) => {
  positives(t, [
    { v: "' OR '1'='1' -- ", rule: 942100 },
    { v: "') or ('a'='a", rule: 942100 },
    { v: "1' AND '1'='1", rule: 942100 },
    { v: "admin'--", rule: 942110 },
    { v: "admin'#", rule: 942110 },
    { v: "1' ORDER BY 10--+", rule: 942120 },
    { v: "x' UNION ALL SELECT 1,2", rule: 942120 },
    { v: '1; DROP TABLE orders; --', rule: 942130 },
    { v: "1'; exec xp_cmdshell 'dir'", rule: 942130 },
    { v: '1 or 1=1', rule: 942140 },
    { v: 'x" or "a"="a', rule: 942140 },
    { v: '1 OR 1=1 LIMIT 1 OFFSET 0', rule: 942150 },
    { v: '-1 UNION SELECT 1', rule: 942150 },
    { v: '1 and sleep(5)', rule: 942150 },
    { v: '-1 UN/**/ION SE/**/LECT 1,2', rule: 942160 },
    { v: 'x union/**/select password', rule: 942160 },
    { v: 'id,(select*from(select(sleep(5)))a)', rule: 942170 },
    { v: "1'; WAITFOR DELAY '0:0:5'--", rule: 942170 },
    { v: '1;select pg_sleep(10)', rule: 942170 },
    { v: '1 AND extractvalue(1, concat(0x7e, version()))', rule: 942180 },
    { v: "1 and updatexml(1,concat(0x3a,user()),1)", rule: 942180 },
    { v: 'table_name FROM information_schema.tables', rule: 942190 },
    { v: "null,@@version#", rule: 942190 },
    { v: "1; exec master..xp_cmdshell 'ping x'", rule: 942200 },
    { v: "' union select load_file('/etc/passwd')", rule: 942200 },
    { v: 'select * from users', rule: 942210 },
    { v: 'x and (select version())', rule: 942210 },
    { v: 'x or exists(select 1)', rule: 942220 },
    { v: 'case when (1=1) then 1 else 0 end', rule: 942230 },
    { v: "char(0x41,0x42)", rule: 942240 },
    { v: '1%2527%2520OR%25201%253D1--', rule: 942100 },
    { v: '%27%20or%201%3D1%23', rule: 942140 },
    { v: '&#39; or &#39;x&#39;=&#39;x', rule: 942100 },
  ]);
});

void t.test('SQL words in prose, names and code stay clean', async (t) => {
  negatives(t, [
    "O'Brien", "D'Angelo Russell", "it's 5 o'clock", "McDonald's or Burger King?", 'rock \'n\' roll',
    'select a plan', 'Select all items from the cart and update the order', 'union of A and B',
    'drop table tennis lessons; union meeting at 5', 'Table for 4 at 7pm, or else 8pm',
    'Where is my order? 1 or 2 weeks ago', '3 < 5 or 5 > 3', 'a < b and b < c', 'order by price',
    'Please select one, two or three options', '"war and peace" OR "anna karenina"', 'status:open AND priority:high',
    "Price gt 20 and Category eq 'Books'", 'SELECT id, name FROM users WHERE active = true ORDER BY created_at DESC LIMIT 10;',
    'await sleep(1000)', 'time.sleep(5)', 'The report shows 3 and 4 as the top two', '"Best purchase." -- Verified buyer',
    "color: '#fff'", 'from now on', 'i want to join the team plan from my current plan', 'x => x * 2',
    'user.version()', 'case study: how we cut churn by 30%',
  ]);
});

void t.test('a comment split across two fields: the second starts inside it', async (t) => {
  // user=admin'/* and pass=*/OR/**/1=1# meet in one query upstream.
  positives(t, [{ v: '*/OR/**/1=1#', rule: 942140 }, { v: "*/ union select password from users-- -", rule: 942160 }]);
  negatives(t, ['5 */ 2 is not valid maths', 'a */ b']);
});

void t.test('NoSQL operators in names and JSON-in-values', async (t) => {
  positives(t, [
    { v: 'username[$ne]', rule: 942290, bits: T_NAME },
    { v: 'price.$lt', rule: 942290, bits: T_NAME },
    { v: '$where', rule: 942290, bits: T_NAME },
    { v: '{"age":{"$gt":""}}', rule: 942291 },
  ]);
  negatives(t, ['$schema', '$id', '$type', '$ref', 'filter', '$filter', '$select'], T_NAME);
  negatives(t, ['query($where: UserWhereInput) { users(where: $where) { id } }', 'costs $5 or $10', '{"$schema": "x"}']);
});
