/**
 * Each warning of `portcullis policy` fires on a real config file with the one risky setting, and
 * not on its safe twin (the base config, on which no warning fires at all).
 */
import t from 'tap';
import { runPolicy } from '../../src/policy/command.js';
import type { PolicyReport } from '../../src/policy/model.js';
import { configDir, type ConfigDir, type Doc } from './fixture.js';

let dir: ConfigDir;
t.before(async () => { dir = await configDir(); });
t.teardown(() => dir?.close());

async function report(name: string, doc: Doc): Promise<PolicyReport> {
  const out = await runPolicy(['--config', await dir.write(name, doc), '--format', 'json'], 'unused');
  if (out.code !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout) as PolicyReport;
}
const codes = (r: PolicyReport) => r.warnings.map((w) => `${w.code} ${w.where}`);

void t.test('the safe base config has no warning', async (t) => {
  t.same(codes(await report('base', dir.base())), []);
});

/** [code, where, severity, the risky change, the safe twin's change (a different value of the same key)] */
const CASES: [string, string, string, (d: Doc) => void, (d: Doc) => void][] = [
  ['auth-none-private-path', 'route:public', 'high', (d) => { d.routes[0]!.match['path'] = '/admin'; }, (d) => { d.routes[0]!.match['path'] = '/static'; }],
  ['auth-none-private-path', 'route:public', 'high', (d) => { delete d.routes[0]!.match['path']; }, (d) => { d.routes[0]!.match = { exactPath: '/healthz' }; }],
  ['admin-listener-exposed', 'listener:admin', 'high', (d) => { d.listeners['admin']!['host'] = '0.0.0.0'; }, (d) => { d.listeners['admin']!['host'] = '::1'; }],
  ['trusted-proxies-broad', 'server', 'high', (d) => { d.server['trustedProxies'] = ['0.0.0.0/0']; }, (d) => { d.server['trustedProxies'] = ['192.168.0.0/16']; }],
  ['trusted-proxies-broad', 'server', 'medium', (d) => { d.server['trustedProxies'] = ['10.0.0.0/8']; }, (d) => { d.server['trustedProxies'] = ['10.0.0.0/16']; }],
  ['trusted-proxies-broad', 'server', 'medium', (d) => { d.server['trustedProxies'] = ['2001:db8::/32']; }, (d) => { d.server['trustedProxies'] = ['2001:db8::/64']; }],
  ['dev-key-trusted', 'provider:corp', 'high', (d) => { d.auth.providers[0]!['jwksFile'] = dir.devJwks; }, (d) => { d.auth.providers[0]!['issuer'] = 'https://other.example.com'; }],
  ['dev-key-trusted', 'provider:corp', 'high', (d) => { d.auth.providers[0]!['issuer'] = 'portcullis-dev'; }, (d) => { d.auth.providers[0]!['issuer'] = 'portcullis-prod'; }],
  ['provider-without-audience', 'provider:corp', 'medium', (d) => { delete d.auth.providers[0]!['audiences']; }, (d) => { d.auth.providers[0]!['audiences'] = ['a', 'b']; }],
  ['route-without-rate-limit', 'route:api', 'low', (d) => { delete d.routes[1]!['rateLimit']; }, (d) => { d.routes[1]!['rateLimit'] = 'per-ip'; }],
  ['route-without-rate-limit', 'route:public', 'medium', (d) => { delete d.routes[0]!['rateLimit']; }, (d) => { d.routes[0]!['rateLimit'] = 'per-user'; }],
  ['listener-without-tls', 'listener:http', 'medium', (d) => { d.listeners['http']!['host'] = '0.0.0.0'; }, (d) => { d.listeners['http']!['host'] = '127.0.0.2'; }],
  ['listener-without-tls', 'listener:auth', 'medium', (d) => { d.listeners['auth'] = { host: '0.0.0.0', port: 8081 }; }, (d) => { d.listeners['auth'] = { host: '127.0.0.1', port: 8081 }; }],
  ['listener-without-tls', 'listener:authGrpc', 'medium', (d) => { d.listeners['authGrpc'] = { host: '0.0.0.0', port: 9191 }; }, (d) => { d.listeners['authGrpc'] = { host: '127.0.0.1', port: 9191 }; }],
  ['demo-listener-exposed', 'listener:demo', 'medium', (d) => { d.listeners['demo'] = { host: '0.0.0.0', port: 8070 }; }, (d) => { d.listeners['demo'] = { host: '127.0.0.1', port: 8070 }; }],
  ['trust-original-url', 'listener:auth', 'low', (d) => { d.listeners['auth'] = { host: '127.0.0.1', port: 8081, trustOriginalUrl: true }; }, (d) => { d.listeners['auth'] = { host: '127.0.0.1', port: 8081, trustOriginalUrl: false }; }],
  ['waf-off', 'route:api', 'medium', (d) => { d.routes[1]!['waf'] = 'off'; }, (d) => { d.routes[1]!['waf'] = 'block'; }],
  ['waf-detect', 'route:api', 'low', (d) => { d['waf'] = { mode: 'detect' }; d.routes[0]!['waf'] = 'block'; }, (d) => { d['waf'] = { mode: 'block' }; }],
];

CASES.forEach(([code, where, severity, risky, safe], i) => {
  void t.test(`${code} (${where}, case ${i + 1}) fires on the risky config, not on its twin`, async (t) => {
    const bad = dir.base();
    risky(bad);
    const good = dir.base();
    safe(good);
    const r = await report(`risky-${i}`, bad);
    t.same(codes(r), [`${code} ${where}`], 'exactly this warning');
    t.equal(r.warnings[0]!.severity, severity);
    t.ok(r.warnings[0]!.message.length > 20, 'with a message saying why');
    t.same(codes(await report(`safe-${i}`, good)), [], 'the twin: none');
  });
});

void t.test('the report says what runs: defaults filled in, the compiled stages listed', async (t) => {
  const r = await report('base-again', dir.base());
  const api = r.routes.find((x) => x.name === 'api')!;
  t.same(api.hosts, ['*']);
  t.same(api.methods, ['GET', 'POST']);
  t.same(api.auth, { mode: 'token', providers: ['*'], scopes: ['orders:read'], roles: [], claims: {}, clientCert: null, login: null });
  t.same(api.rateLimit, { policy: 'per-user', key: 'sub', capacity: 20, refillPerSecond: 10 });
  t.same(api.waf, { mode: 'block', exclusions: [] }, 'the WAF default (block) though the file says nothing');
  t.same(api.stages, ['auth', 'authorise', 'ratelimit', 'waf']);
  t.same(api.identityHeaders, { 'X-User-Id': 'sub' });
  t.equal(r.routes[0]!.order, 1);
  t.same(r.listeners.map((l) => l.name), ['admin', 'http']);
});

void t.test('a config the gateway refuses is refused here: exit 2 naming the key', async (t) => {
  const d = dir.base();
  d.routes[1]!['rateLimit'] = 'no-such-policy';
  const out = await runPolicy(['--config', await dir.write('bad', d)], 'unused');
  t.equal(out.code, 2);
  t.match(out.stderr, /rateLimit/);
  t.equal(out.stdout, '');
  const args = await runPolicy(['--format', 'xml'], 'unused');
  t.equal(args.code, 2);
  t.match(args.stderr, /--format must be table, json or markdown/);
});

void t.test('the gRPC ext_authz listener is reported like the auth listener', async (t) => {
  const d = dir.base();
  d.listeners['authGrpc'] = { host: '127.0.0.1', port: 9191 };
  const r = await report('grpc-listener', d);
  t.same(r.listeners.find((l) => l.name === 'authGrpc'), { name: 'authGrpc', host: '127.0.0.1', port: 9191, exposed: false, tls: false, clientCert: 'none' });
});
