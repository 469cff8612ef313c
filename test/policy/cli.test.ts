/**
 * `node dist/src/main.js policy …` as a child process, on real config files: the JSON is the same
 * bytes run after run (and whatever order the file writes its keys in), the text formats carry the
 * same routes, and `--diff` reports what a change opens with exit 1, what it closes with exit 0.
 */
import t from 'tap';
import { runPolicy } from '../../src/policy/command.js';
import { runToExit } from '../helpers/process.js';
import { configDir, type ConfigDir, type Doc } from './fixture.js';

// Each child process loads and compiles configs: slow on a loaded 2-CPU machine, never a hang.
t.setTimeout(360_000);

/** The same command in process (for the cases where the child process adds nothing). */
const inProcess = (args: string[]) => runPolicy(args, 'unused');

let dir: ConfigDir;
t.before(async () => { dir = await configDir(); });
t.teardown(() => dir?.close());

/** The same document with every object's keys in reverse order. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
}

void t.test('--format json is byte-stable: two runs, and the same config written in another key order', async (t) => {
  const a = await dir.write('stable-a', dir.base());
  const b = await dir.write('stable-b', reversed(dir.base()));
  const [one, two, other] = await Promise.all([
    runToExit(['policy', '--config', a, '--format', 'json']),
    runToExit(['policy', '--config', a, '--format', 'json']),
    runToExit(['policy', '--config', b, '--format', 'json']),
  ]);
  t.equal(one.code, 0, one.stderr);
  t.equal(one.stdout, two.stdout, 'run after run');
  t.equal(one.stdout, other.stdout, 'whatever the key order of the file');
  const parsed = JSON.parse(one.stdout) as Record<string, unknown>;
  t.equal(parsed['version'], 1);
  t.same(Object.keys(parsed), ['listeners', 'providers', 'routes', 'server', 'version', 'warnings'], 'keys sorted');
  t.notMatch(one.stdout, /20\d\d-\d\d-\d\dT/, 'no timestamp');
  t.notMatch(one.stdout, /stable-a/, 'nor the path it was read from');
});

void t.test('table and markdown show every route and warning', async (t) => {
  const d = dir.base();
  d.routes[0]!.match['path'] = '/admin';
  const path = await dir.write('formats', d);
  const [table, md] = await Promise.all([runToExit(['policy', '--config', path]), runToExit(['policy', '--config', path, '--format', 'markdown'])]);
  t.equal(table.code, 0, table.stderr);
  t.match(table.stdout, /routes, first match wins:/);
  t.match(table.stdout, /1\s+public\s+\*\s+\/admin\s+GET\s+any\s+none \(anonymous\)/);
  t.match(table.stdout, /high\s+auth-none-private-path \[route:public\]/);
  t.equal(md.code, 0, md.stderr);
  t.match(md.stdout, /^## Access policy/);
  t.match(md.stdout, /\| 2 \| api \| \* \| \/api \| GET POST \| any \| token from \*; scopes orders:read \|/);
  t.match(md.stdout, /\| high \| auth-none-private-path \| route:public \|/);
});

void t.test('--diff: a change that opens exits 1 and says what it opens', async (t) => {
  const before = await dir.write('diff-old', dir.base());
  const d: Doc = dir.base();
  d.routes[1]!['auth'] = 'none';                                   // auth weakened
  delete d.routes[1]!['rateLimit'];                                // rate limit removed
  d.routes[0]!.match['methods'] = ['GET', 'DELETE'];               // method widened
  d.routes[0]!.match['path'] = '/';                                // path widened
  d.routes.push({ name: 'ops', match: { path: '/ops' }, auth: { roles: ['ops'] }, rateLimit: 'per-user', upstream: 'http://127.0.0.1:8070' });
  const after = await dir.write('diff-new', d);
  const out = await runToExit(['policy', '--diff', before, after]);
  t.equal(out.code, 1, 'exit 1: something opens');
  t.match(out.stdout, /\+ opens\s+route:api: auth token → none \(anonymous\)/);
  t.match(out.stdout, /\+ opens\s+route:api: rate limit per-user removed/);
  t.match(out.stdout, /\+ opens\s+route:public: method DELETE added/);
  t.match(out.stdout, /\+ opens\s+route:public: path \/public → \/ \(widened\)/);
  t.match(out.stdout, /\+ opens\s+route:ops: route added/);
  t.match(out.stdout, /\+ opens\s+route:api: warning added: auth-none-private-path/);
  const json = await inProcess(['--diff', before, after, '--format', 'json']);
  t.equal(json.code, 1);
  const parsed = JSON.parse(json.stdout) as { opens: number; closes: number; changes: { effect: string; where: string }[] };
  t.ok(parsed.opens >= 6);
  t.equal(parsed.changes.filter((c) => c.effect === 'opens').length, parsed.opens);

  // The reverse change closes all of it: exit 0.
  const back = await runToExit(['policy', '--diff', after, before]);
  t.equal(back.code, 0, 'exit 0: nothing opens');
  t.match(back.stdout, /^0 opening, \d+ closing/);
  t.match(back.stdout, /- closes\s+route:api: auth none → token from \*; scopes orders:read/);
  t.match(back.stdout, /- closes\s+route:ops: route removed/);
  t.match(back.stdout, /- closes\s+route:public: path \/ → \/public \(narrowed\)/);

  const same = await inProcess(['--diff', before, before]);
  t.equal(same.code, 0);
  t.match(same.stdout, /^0 opening, 0 closing, 0 other change\(s\)\n$/);
});

void t.test('--diff: narrower requirements open, wider ones close', async (t) => {
  const base = dir.base();
  const before = await dir.write('req-old', base);
  const d = dir.base();
  d.routes[1]!['auth'] = {};                                        // scope no longer required
  d.rateLimits = { policies: { 'per-ip': { key: 'ip', capacity: 100, refillPerSecond: 50 }, 'per-user': { key: 'sub', capacity: 200, refillPerSecond: 10 } } };
  d.server['trustedProxies'] = ['10.1.2.0/24', '10.0.0.0/8'];
  d.routes[1]!['waf'] = 'detect';
  const out = await inProcess(['--diff', before, await dir.write('req-new', d)]);
  t.equal(out.code, 1);
  t.match(out.stdout, /route:api: scope orders:read no longer required/);
  t.match(out.stdout, /route:api: rate limit raised: 20 @ 10\/s → 200 @ 10\/s/);
  t.match(out.stdout, /\+ opens\s+server: trusted proxy 10\.0\.0\.0\/8 added/);
  t.match(out.stdout, /\+ opens\s+route:api: WAF block → detect/);
});

void t.test('--diff with one file, or a bad config: exit 2 with the usage or the config error', async (t) => {
  const one = await inProcess(['--diff', await dir.write('only', dir.base())]);
  t.equal(one.code, 2);
  t.match(one.stderr, /--diff takes two config files/);
  const d = dir.base();
  d.routes[0]!['auth'] = 'nobody';
  const bad = await runToExit(['policy', '--diff', await dir.write('ok', dir.base()), await dir.write('broken', d)]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /routes\[0\]\.auth|routes\.0\.auth|auth/);
});
