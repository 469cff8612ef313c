// PRODUCT §1.4: every rule of path normalisation, each with its negative twin.
import t from 'tap';
import { normaliseTarget, segmentPrefixMatch } from '../../src/route/normalise.js';

type Ok = readonly [target: string, path: string, query?: string];
type Bad = readonly [target: string, reason: string];

const accepted: readonly Ok[] = [
  // already clean (fast path) — returned unchanged
  ['/', '/'],
  ['/a/b', '/a/b'],
  ['/a/b/', '/a/b/'],
  ['/a;jsessionid=x/b', '/a;jsessionid=x/b'],
  ['/a.b/c..d/...', '/a.b/c..d/...'],
  ['/ADMIN', '/ADMIN'], // case-sensitive: never folded
  ['/Admin/%41', '/Admin/A'],
  // dot segments (RFC 3986 §5.2.4)
  ['/public/../admin', '/admin'],
  ['/public/%2e%2e/admin', '/admin'],
  ['/public/%2E%2e/admin', '/admin'],
  ['/public/.%2E/admin', '/admin'],
  ['/a/./b', '/a/b'],
  ['/a/%2e/b', '/a/b'],
  ['/a/b/.', '/a/b/'],
  ['/a/b/..', '/a/'],
  ['/a/..', '/'],
  ['/.', '/'],
  ['/./', '/'],
  ['/a/b/../../c/', '/c/'],
  ['/.well-known/x', '/.well-known/x'],
  ['/a/.hidden', '/a/.hidden'],
  ['/a/...', '/a/...'],
  ['/a/;x/../b', '/a/b'],
  // repeated slashes
  ['//admin', '/admin'],
  ['/a//b///c', '/a/b/c'],
  ['/a/b//', '/a/b/'],
  ['//', '/'],
  ['/a//..', '/'], // merged first, then resolved
  // percent-encoding: unreserved decoded, the rest uppercased and kept
  ['/%41%7a%30%2d%5f%7e', '/Az0-_~'],
  ['/caf%c3%a9', '/caf%C3%A9'],
  ['/caf%C3%A9', '/caf%C3%A9'],
  ['/a%20b', '/a%20b'],
  ['/a%3bx', '/a%3Bx'],
  ['/a%3fx%23y', '/a%3Fx%23y'],
  ['/a%25%32%65', '/a%252e'], // %25 stays encoded: no double decoding
  ['/%e2%82%ac', '/%E2%82%AC'], // U+20AC, 3 bytes
  ['/%f0%9f%98%80', '/%F0%9F%98%80'], // U+1F600, 4 bytes
  ['/%f4%8f%bf%bf', '/%F4%8F%BF%BF'], // U+10FFFF, the last code point
  ['/%ed%9f%bf', '/%ED%9F%BF'], // U+D7FF, just below the surrogates
  ['/%c2%80', '/%C2%80'], // U+0080, the shortest legal 2-byte form
  // query and fragment
  ['/a?x=1', '/a', 'x=1'],
  ['/a?', '/a', ''],
  ['/a?b=%2f', '/a', 'b=%2f'], // the query is not normalised
  ['/a?b=../..//%00x', '/a', 'b=../..//%00x'],
  ['/a?x=1#f', '/a', 'x=1'],
  ['/a#frag', '/a'],
  ['/a#frag?x=1', '/a'],
  ['/#', '/'],
  ['/a/../b?x=/../', '/b', 'x=/../'],
  // absolute-form: the path part only
  ['http://h/a/../b?q=1', '/b', 'q=1'],
  ['HTTPS://user@h:8443//x', '/x'],
  ['http://h', '/'],
  ['http://h?q', '/', 'q'],
  ['http://h#/admin', '/'],
];

const rejected: readonly Bad[] = [
  // not origin-form
  ['*', 'not_origin_form'],
  ['', 'not_origin_form'],
  ['a/b', 'not_origin_form'],
  ['example.com:443', 'not_origin_form'],
  ['ftp://h/a', 'not_origin_form'],
  ['#/a', 'not_origin_form'],
  ['?x', 'not_origin_form'],
  // encoded '/', '\', NUL, controls
  ['/a/%2fadmin', 'encoded_slash'],
  ['/a%2Fb', 'encoded_slash'],
  ['/a%5cb', 'backslash'],
  ['/a%5Cb', 'backslash'],
  ['/a%00', 'nul'],
  ['/a%0a', 'bad_character'],
  ['/a%1F', 'bad_character'],
  ['/a%7f', 'bad_character'],
  // raw bad characters
  ['/a\\b', 'backslash'],
  ['/a\0b', 'nul'],
  ['/a\nb', 'bad_character'],
  ['/a b', 'bad_character'],
  ['/a\x7fb', 'bad_character'],
  ['/caf\u00e9', 'bad_character'],
  ['/a\u2028', 'bad_character'],
  ['/a?x\r\nHost: evil', 'bad_character'],
  ['/a?x=\0', 'nul'],
  ['/a?x= y', 'bad_character'],
  ['http://h/a\\..', 'backslash'],
  // malformed percent-encoding
  ['/a%zz', 'bad_percent_encoding'],
  ['/a%4', 'bad_percent_encoding'],
  ['/a%', 'bad_percent_encoding'],
  ['/a%4/', 'bad_percent_encoding'],
  ['/a%%41', 'bad_percent_encoding'],
  ['/a%u002e', 'bad_percent_encoding'],
  ['/a%4g', 'bad_percent_encoding'],
  // invalid UTF-8
  ['/%c0%ae%c0%ae/', 'invalid_utf8'], // overlong '.'
  ['/%c0%af', 'invalid_utf8'], // overlong '/'
  ['/%c1%bf', 'invalid_utf8'],
  ['/%e0%80%af', 'invalid_utf8'], // 3-byte overlong '/'
  ['/%e0%9f%bf', 'invalid_utf8'], // 3-byte overlong U+07FF
  ['/%f0%8f%bf%bf', 'invalid_utf8'], // 4-byte overlong U+FFFF
  ['/%ed%a0%80', 'invalid_utf8'], // surrogate U+D800
  ['/%ed%bf%bf', 'invalid_utf8'], // surrogate U+DFFF
  ['/%f4%90%80%80', 'invalid_utf8'], // U+110000
  ['/%f5%80%80%80', 'invalid_utf8'],
  ['/%ff', 'invalid_utf8'],
  ['/%80', 'invalid_utf8'], // stray continuation
  ['/caf%a9', 'invalid_utf8'],
  ['/%c3', 'invalid_utf8'], // truncated at end
  ['/%c3/', 'invalid_utf8'], // truncated by '/'
  ['/%c3a', 'invalid_utf8'], // truncated by a raw char
  ['/%c3%41', 'invalid_utf8'], // truncated by an encoded ASCII byte
  ['/%e2%82', 'invalid_utf8'],
  ['/%c3%a9%a9', 'invalid_utf8'], // one continuation too many
  // dot segments with ';' parameters
  ['/a/..;x/admin', 'dot_segment_params'],
  ['/a/..;/admin', 'dot_segment_params'],
  ['/a/.;x/admin', 'dot_segment_params'],
  ['/a/..;', 'dot_segment_params'],
  ['/a/%2e%2e;x/b', 'dot_segment_params'],
  ['/a/.%2e;x/b', 'dot_segment_params'],
  ['/a/..%3bx/b', 'dot_segment_params'],
  ['/..;/admin', 'dot_segment_params'],
  // climbing above '/'
  ['/..', 'path_above_root'],
  ['/../', 'path_above_root'],
  ['/%2e%2e/etc/passwd', 'path_above_root'],
  ['/a/../../b', 'path_above_root'],
  ['//..', 'path_above_root'],
  ['/./..', 'path_above_root'],
  ['http://h/../x', 'path_above_root'],
];

/** A TAP-safe name: U+2028 and friends would break the TAP stream's lines. */
const label = (s: string): string =>
  JSON.stringify(s).replace(/[^\x20-\x7e]/g, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));

void t.test('accepted targets normalise to exact paths', async (t) => {
  for (const [target, path, query = ''] of accepted) {
    t.same(normaliseTarget(target), { ok: true, path, query }, label(target));
  }
});

void t.test('rejected targets carry the exact reason', async (t) => {
  for (const [target, reason] of rejected) {
    t.same(normaliseTarget(target), { ok: false, reason }, label(target));
  }
});

void t.test('normalisation is idempotent', async (t) => {
  for (const [target] of accepted) {
    const once = normaliseTarget(target);
    if (!once.ok) {
      t.fail(target);
      continue;
    }
    t.same(normaliseTarget(once.path), { ok: true, path: once.path, query: '' }, label(target));
  }
});

void t.test('the fast path returns the very same string for a clean target', async (t) => {
  const clean = '/api/v1/orders/123;v=2';
  const r = normaliseTarget(clean);
  t.ok(r.ok);
  if (r.ok) t.equal(r.path, clean);
});

void t.test('10,000-segment paths complete fast', async (t) => {
  const n = 10_000;
  const segs = Array.from({ length: n }, (_, i) => 's' + i);
  const clean = '/' + segs.join('/');
  // every segment costs decoding and a stack operation
  const dirty = '/' + segs.map((s) => `%41${s}/./x/%2e%2e/`).join('/');
  const expectedDirty = '/' + segs.map((s) => 'A' + s).join('/') + '/';
  const climbing = clean + '/..'.repeat(n);
  const tooHigh = clean + '/..'.repeat(n + 1);

  // Each input separately, cold (first call of the slow path included): one request's budget.
  const timed = (target: string): [ReturnType<typeof normaliseTarget>, number] => {
    const start = performance.now();
    const r = normaliseTarget(target);
    return [r, performance.now() - start];
  };
  const [a, ta] = timed(clean);
  const [b, tb] = timed(dirty);
  const [c, tc] = timed(climbing);
  const [d, td] = timed(tooHigh);

  t.same(a, { ok: true, path: clean, query: '' });
  t.same(b, { ok: true, path: expectedDirty, query: '' });
  t.same(c, { ok: true, path: '/', query: '' });
  t.same(d, { ok: false, reason: 'path_above_root' });
  for (const [name, ms] of [['clean', ta], ['dirty', tb], ['climbing', tc], ['too high', td]] as const) {
    t.ok(ms < 50, `${name}: ${ms.toFixed(1)} ms`);
  }
});

void t.test('segmentPrefixMatch', async (t) => {
  const cases: readonly (readonly [path: string, prefix: string, expected: boolean])[] = [
    ['/admin', '/admin', true],
    ['/admin/', '/admin', true],
    ['/admin/x', '/admin', true],
    ['/admin;jsessionid=x', '/admin', true], // ';' is a boundary
    ['/admin;x/y', '/admin', true],
    ['/administrator', '/admin', false],
    ['/admin.json', '/admin', false],
    ['/admi', '/admin', false],
    ['/ADMIN', '/admin', false], // case-sensitive
    ['/', '/admin', false],
    ['/', '/', true],
    ['/anything/at/all', '/', true],
    ['/api/', '/api/', true],
    ['/api/x', '/api/', true],
    ['/api', '/api/', false],
    ['/apix', '/api/', false],
    ['/api/v1/orders/7', '/api/v1/orders', true],
    ['/api/v1/ordersx', '/api/v1/orders', false],
  ];
  for (const [path, prefix, expected] of cases) {
    t.equal(segmentPrefixMatch(path, prefix), expected, `${path} vs ${prefix}`);
  }
});
