import t from 'tap';
import { negatives, positives } from './table.js';
import { T_HEADER, T_VALUE } from '../../../src/waf/rule.js';
import { RuleSet, Scan } from '../../../src/waf/engine.js';
import { S_BODY } from '../../../src/waf/exclusions.js';

void t.test('SSRF and RFI targets are caught', async (t) => {
  positives(t, [
    { v: 'http://169.254.169.254/latest/meta-data/', rule: 934110 },
    { v: 'http://metadata.google.internal/computeMetadata/v1/', rule: 934110 },
    { v: 'http://[::ffff:a9fe:a9fe]/', rule: 934110 },
    { v: '169.254.169.254', rule: 934110, bits: T_HEADER },
    { v: 'http://localhost:8500/v1/agent/self', rule: 934120 },
    { v: 'http://127.0.0.1:6379/', rule: 934120 },
    { v: 'http://2852039166/latest/', rule: 934120 },
    { v: 'http://0xA9FEA9FE/latest/user-data', rule: 934120 },
    { v: 'http://0177.0.0.1/', rule: 934120 },
    { v: 'http://[::1]:6379/', rule: 934120 },
    { v: 'http://0/', rule: 934120 },
    { v: 'http://user@localhost:2375/containers/json', rule: 934120 },
    { v: 'http://db.internal/admin', rule: 934120 },
    { v: 'gopher://127.0.0.1:6379/_flushall', rule: 934122 },
    { v: 'dict://127.0.0.1:11211/stats', rule: 934122 },
    { v: 'file:///etc/hostname', rule: 934122 },
    { v: 'jar:http://evil/x.jar!/', rule: 934122 },
    { v: 'http://evil.example/shell.txt?', rule: 931100 },
    { v: '\\\\198.51.100.9\\share\\shell.php', rule: 931110 },
  ]);
});

void t.test('ordinary URLs stay clean', async (t) => {
  negatives(t, [
    'https://cdn.example.com/u/8812/photo.jpg', 'http://podcasts.example.org/feed.xml', '/dashboard?tab=billing',
    'https://docs.example.com/guide#install', 'the server listens on localhost:3000', 'mailto:sales@example.com?subject=Hi',
    'https://hooks.slack.example/services/T000/B000/XXXX', 'ftp://ftp.example.org/pub/readme.txt', '//cdn.example.com/x.js',
    'https://storage.example.com/x.csv?X-Amz-Signature=3b1c', '127.0.0.1 - - [20/May/2024] "GET / HTTP/1.1" 200',
  ]);
});

void t.test('a loopback redirect_uri is a browser redirect, not a fetch (RFC 8252 §7.3)', async (t) => {
  const rules = new RuleSet(1);
  for (const [name, expected] of [['redirect_uri', []], ['return_to', []], ['webhook', [934120]], ['a.callback', [934120]]] as const) {
    const scan = new Scan();
    rules.inspect(scan, T_VALUE, 'http://localhost:3000/callback', S_BODY, name);
    t.same(scan.ids ?? [], expected, name);
  }
});
