/**
 * The `rd` rule (src/session/redirect.ts), value by value: open redirects are sign-in proxies'
 * most repeated CVE class, so every known trick has its line here, with its harmless twin.
 */
import t from 'tap';
import { RedirectPolicy } from '../../src/session/redirect.js';

const policy = new RedirectPolicy(['app.example.com', '*.corp.example']);
const HOST = 'gw.example.com';

const REFUSED: readonly string[] = [
  '//evil.example', '/\\evil.example', '\\\\evil.example', '\\/evil.example',
  'https:evil.example', 'http:/evil.example', 'https:/\\evil.example', 'javascript:alert(1)', 'data:text/html,x',
  'https://evil.example/', 'https://app.example.com.evil.example/', 'https://evilapp.example.com/',
  'https://app.example.com@evil.example/', 'https://user:pw@app.example.com/', 'https://evil.example#@app.example.com',
  'https://evil.example\\@app.example.com', 'https://corp.example/', 'ftp://app.example.com/',
  '%2f%2fevil.example', '/%2fevil.example', '/%5cevil.example', '%2F%2Fevil.example', '/%09/evil.example',
  '/\t/evil.example', '/\n/evil.example', ' //evil.example', '/ /evil.example', '\x00/x', '/x\x7f',
  'https://evil.example%2f@app.example.com/', '', 'a'.repeat(3000),
];

const ALLOWED: ReadonlyArray<readonly [string, string]> = [
  ['/', '/'],
  ['/orders/7?tab=items#top', '/orders/7?tab=items#top'],
  ['/a/../b', '/b'],
  ['/%2e%2e/x', '/x'],
  ['https://app.example.com/home?x=1', 'https://app.example.com/home?x=1'],
  ['HTTPS://APP.EXAMPLE.COM/', 'https://app.example.com/'],
  ['https://a.corp.example:8443/x', 'https://a.corp.example:8443/x'],
  ['http://gw.example.com/own-host', 'http://gw.example.com/own-host'],
];

void t.test('refused', async (t) => {
  for (const rd of REFUSED) t.equal(policy.check(rd, HOST), null, JSON.stringify(rd));
});

void t.test('allowed, normalised', async (t) => {
  for (const [rd, expected] of ALLOWED) t.equal(policy.check(rd, HOST), expected, JSON.stringify(rd));
});
