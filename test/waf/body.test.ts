import t from 'tap';
import { randomBytes } from 'node:crypto';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { RuleSet, Scan } from '../../src/waf/engine.js';
import { contentCodings, decodePrefix, inspectBody, MAX_CODINGS } from '../../src/waf/body.js';
import { bodyKind } from '../../src/waf/content-type.js';
import { scanJson } from '../../src/waf/json-scan.js';
import { boundaryOf } from '../../src/waf/multipart.js';
import { Exclusions } from '../../src/waf/exclusions.js';

function body(contentType: string | undefined, text: string, exclusions?: Exclusions): number[] {
  const scan = new Scan();
  if (exclusions) scan.reset(exclusions);
  const kind = bodyKind(contentType);
  if (kind === null) return [];
  inspectBody(new RuleSet(1), scan, kind, contentType, Buffer.from(text));
  return scan.ids ?? [];
}

void t.test('media types: what is read and what streams untouched', async (t) => {
  t.equal(bodyKind('application/json; charset=utf-8'), 'json');
  t.equal(bodyKind('application/vnd.api+json'), 'json');
  t.equal(bodyKind('application/x-www-form-urlencoded'), 'form');
  t.equal(bodyKind('multipart/form-data; boundary=x'), 'multipart');
  t.equal(bodyKind('text/xml'), 'text');
  t.equal(bodyKind('application/soap+xml'), 'text');
  t.equal(bodyKind(undefined), 'text', 'no type: read as text');
  for (const binary of ['application/octet-stream', 'image/png', 'application/pdf', 'application/zip', 'application/x-protobuf', 'video/mp4']) {
    t.equal(bodyKind(binary), null, binary);
  }
});

void t.test('JSON: every key and string value, nested, with names; tolerant of cut-off and NDJSON', async (t) => {
  t.ok(body('application/json', '{"a":{"b":[{"c":"<script>"}]}}').includes(941110));
  t.ok(body('application/json', '{"$where":"sleep(1)"}').includes(942290));
  t.ok(body('application/json', '{"constructor":{"prototype":{"x":1}}}').includes(934130));
  t.ok(body('application/json', '{"q":"\\u0027 or \\u00271\\u0027=\\u00271"}').includes(942100), 'JSON escapes are decoded');
  t.ok(body('application/json', '{"a":"x","b":"<scri').length === 0, 'a cut string is still read (and here harmless)');
  t.ok(body('application/json', '{"a":"x","b":"<script>al').includes(941110), 'a body cut at the bound is read up to the cut');
  t.ok(body('application/x-ndjson', '{"a":1}\n{"b":"../../../etc/passwd"}\n').includes(930110));
  // Escapes anywhere: before, between and after plain strings (the scanner tracks the next one).
  t.ok(body('application/json', '{"a":"x","b":"y","c":"\\u003cscript\\u003e"}').includes(941110), 'an escape in a later string');
  t.ok(body('application/json', '{"a":"\\"q\\"","b":"y","c":"<script>"}').includes(941110), 'a plain string after an escaped one');
  t.ok(body('application/json', '{"a":"\\t","b":"\\"","c":"\\u003c\\u0073cript>"}').includes(941110), 'several escaped strings in a row');
  t.same(body('application/json', '{"price": 10, "ok": true, "n": null, "tags": ["a","b"]}'), []);
  const names: string[] = [];
  const scan = new Scan();
  scan.reset(new Exclusions([{ rules: [941110], target: 'args:items.note' }]));
  scanJson(new RuleSet(1), scan, '{"items":[{"note":"<script>"}],"other":{"note":"<script>"}}');
  names.push(...(scan.ids ?? []).map(String));
  t.same(scan.ids, [941110], 'items.note excluded (array index dropped), other.note still matches');
  // Names: a key is inspected with the last segment of its parent's key, and alone when nested
  // and not an identifier, so anchored name rules see it whatever its parent is called.
  const named = (text: string, paranoia = 2): number[] => {
    const s = new Scan();
    scanJson(new RuleSet(paranoia), s, text);
    return s.ids ?? [];
  };
  t.ok(named('{"a":{"() { :; }; echo pwned":1}}').includes(932140), 'a Shellshock key under a plain parent');
  t.ok(named('{"x.":{"() { :; }; echo pwned":1}}').includes(932140), 'under a parent key ending in a dot');
  t.ok(named('{"a.":{"../../x":1}}').includes(930110), 'a traversal key under a dotted parent');
  t.ok(named('{"a, b.c":{"etc/passwd":1}}').includes(930120), 'the parent key\'s last segment, not the whole key');
  t.ok(named('{"a.b":{"__proto__":{"x":1}}}').includes(934130), 'prototype pollution under a dotted parent');
  t.same(named('{"orders":{"line_items":[{"unit-price":1}]}}'), [], 'identifier keys stay quiet');
  const empty = new Scan();
  empty.reset(new Exclusions([{ rules: [941110], target: 'args:a' }]));
  scanJson(new RuleSet(1), empty, '{"a":{"":"<script>x"}}');
  t.same(empty.ids, [941110], 'a value under an empty key is named `a.`, not `a` (the exclusion does not cover it)');
});

void t.test('forms and multipart: names, file names, text parts; binary parts skipped', async (t) => {
  t.ok(body('application/x-www-form-urlencoded', 'username=admin%27--&password=x').includes(942110));
  t.ok(body('application/x-www-form-urlencoded', 'to=a%40b.c%0D%0ABcc%3A+x%40y.z').includes(921111));
  const mp = (parts: string) => `--B\r\n${parts}\r\n--B--\r\n`;
  t.ok(body('multipart/form-data; boundary=B', mp('Content-Disposition: form-data; name="f"; filename="../../../../x.php"\r\nContent-Type: image/png\r\n\r\nPNG')).includes(930110));
  t.ok(body('multipart/form-data; boundary="B"', mp('Content-Disposition: form-data; name="c"\r\n\r\n<script>x</script>')).includes(941110));
  t.ok(body('multipart/form-data; boundary=B', '--B\nContent-Disposition: form-data; name="s"; filename="a.svg"\nContent-Type: image/svg+xml\n\n<!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/hostname">]>\n--B--\n').includes(934300), 'bare LF line ends');
  t.same(body('multipart/form-data; boundary=B', mp('Content-Disposition: form-data; name="b"; filename="x.bin"\r\nContent-Type: application/octet-stream\r\n\r\n<script>\' or 1=1--')), [], 'binary part content is not inspected');
  t.ok(body('multipart/form-data', '<script>alert(1)</script>').includes(941110), 'no boundary: the body is read as text');
  t.equal(boundaryOf('multipart/form-data; boundary=----WebKitFormBoundaryc81e'), '----WebKitFormBoundaryc81e');
});

void t.test('text and XML bodies', async (t) => {
  t.ok(body('text/xml', '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "http://169.254.169.254/">]><r>&x;</r>').includes(934300));
  t.same(body('text/xml', '<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><id>42</id></soap:Body></soap:Envelope>'), []);
});

void t.test('compressed bodies are decoded up to the bound; invalid data is reported, never thrown', async (t) => {
  const payload = Buffer.from('{"q":"<script>alert(1)</script>"}');
  t.same(await decodePrefix(gzipSync(payload), ['gzip'], 1024, true), { bytes: payload, corrupt: false });
  const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, 'a'));
  const capped = await decodePrefix(bomb, ['gzip'], 4096, true);
  t.equal(capped.bytes.length, 4096, 'a decompression bomb yields the bound, no more');
  t.equal(capped.corrupt, false);
  t.same(await decodePrefix(Buffer.from('not gzip'), ['gzip'], 100, true), { bytes: Buffer.alloc(0), corrupt: true });
  t.equal((await decodePrefix(Buffer.from('not brotli'), ['br'], 100, true)).corrupt, true);
  t.equal((await decodePrefix(Buffer.from('not zlib'), ['deflate'], 100, true)).corrupt, true);
  const member = gzipSync(payload);
  t.equal((await decodePrefix(Buffer.concat([member, Buffer.alloc(64, 'x')]), ['gzip'], 1024, true)).corrupt, true, 'trailing garbage after a gzip member');
  // A whole body that stops short is corrupt; a prefix cut at the bound is decoded as far as it goes.
  const long = Buffer.from(JSON.stringify({ q: '<script>', pad: randomBytes(4000).toString('hex') }));
  const cut = deflateSync(long).subarray(0, 2000);
  t.equal((await decodePrefix(cut, ['deflate'], 8192, true)).corrupt, true, 'truncated whole body');
  const partial = await decodePrefix(cut, ['deflate'], 8192, false);
  t.equal(partial.corrupt, false, 'a prefix is not corrupt for being cut');
  t.ok(long.toString().startsWith(partial.bytes.toString()) && partial.bytes.length > 10, `prefix decoded (${partial.bytes.length} bytes)`);
  // Stacked codings are undone last applied first (RFC 9110 §8.4).
  const stacked = brotliCompressSync(gzipSync(payload));
  t.same(await decodePrefix(stacked, ['gzip', 'br'], 1024, true), { bytes: payload, corrupt: false });
  t.equal((await decodePrefix(stacked, ['br', 'gzip'], 1024, true)).corrupt, true, 'in the wrong order it is invalid');
});

void t.test('Content-Encoding: identity-only lists are identity; unknown or too many codings are unreadable', async (t) => {
  t.same(contentCodings(undefined), []);
  t.same(contentCodings('identity'), []);
  t.same(contentCodings('identity, identity'), []);
  t.same(contentCodings(' Identity ,, IDENTITY '), [], 'case, spaces and empty list elements');
  t.same(contentCodings(''), []);
  t.same(contentCodings('gzip'), ['gzip']);
  t.same(contentCodings('X-GZIP'), ['gzip']);
  t.same(contentCodings('deflate, identity, br'), ['deflate', 'br']);
  t.equal(contentCodings('x-unknown'), null);
  t.equal(contentCodings('gzip, zstd'), null, 'one unknown coding makes the list unreadable');
  t.equal(contentCodings('compress'), null);
  t.equal(contentCodings('gzip;q=1'), null, 'codings take no parameters');
  t.same(contentCodings(Array(MAX_CODINGS).fill('gzip').join(',')), Array(MAX_CODINGS).fill('gzip'));
  t.equal(contentCodings(Array(MAX_CODINGS + 1).fill('gzip').join(',')), null, 'more stacked codings than the WAF undoes');
});
