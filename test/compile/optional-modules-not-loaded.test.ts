/**
 * No cost for what a config does not use (issue 17 item 4; issue 19's "no cost when tracing is
 * off"): the gateway process started on a config without tracing, gRPC, CRS, DPoP,
 * introspection or sign-in has none of their modules loaded — not the OpenTelemetry SDK, not
 * grpc-js or proto-loader, not the CRS engine. The same process on a config that turns them on
 * does load them, so the hook below is seen to work (a list that stays empty would pass anything).
 *
 * The child runs the built binary with an --import hook that records every ESM module it loads
 * (a module loader `load` hook) and, at exit, every CommonJS file in require's cache (grpc-js,
 * proto-loader and the OTel packages are CommonJS).
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess } from '../helpers/process.js';
import { crsDir } from '../helpers/crs.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-modules-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const HOOK = join(dir, 'record-modules.mjs');
writeFileSync(HOOK, `
import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
const out = process.env.MODULE_LOG;
register('data:text/javascript,' + encodeURIComponent(
  "import { appendFileSync } from 'node:fs';" +
  "export async function load(url, ctx, next) { appendFileSync(" + JSON.stringify(out) + ", url + '\\\\n'); return next(url, ctx); }"));
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => { appendFileSync(out, Object.keys(cache).join('\\n') + '\\n'); });
`);

/** What must not be loaded unless the config asks for it, as path fragments of the loaded files. */
const OPTIONAL = {
  'OpenTelemetry SDK (tracing)': ['/@opentelemetry/sdk-trace/', '/@opentelemetry/exporter-trace-otlp-http/', '/@opentelemetry/resources/', '/dist/src/observe/tracing/otel.js'],
  'gRPC (listeners.authGrpc)': ['/@grpc/grpc-js/', '/@grpc/proto-loader/', '/protobufjs/'],
  'CRS engine (waf.crs)': ['/dist/src/waf/crs/compile.js', '/dist/src/waf/crs/stage.js', '/dist/src/waf/crs/evaluate.js'],
  'DPoP': ['/dist/src/auth/dpop/compile.js', '/dist/src/auth/dpop/check.js'],
  'introspection': ['/dist/src/auth/introspection.js'],
  'sign-in (sessions)': ['/dist/src/session/compile.js', '/dist/src/session/sign-in.js'],
  'policy report': ['/dist/src/policy/command.js'],
  'cluster primary (server.workers)': ['/dist/src/server/cluster/primary.js'],
} as const;

let run = 0;
/** Starts the binary on `yaml`, waits until it is serving, stops it; the files it had loaded. */
async function loadedModules(yaml: string): Promise<string[]> {
  run++;
  const config = join(dir, `gateway-${run}.yaml`);
  const log = join(dir, `modules-${run}.txt`);
  writeFileSync(config, yaml);
  writeFileSync(log, '');
  const gw = await startProcess(['serve', '--config', config], { NODE_OPTIONS: `--import=${HOOK}`, MODULE_LOG: log });
  try {
    await gw.waitForLog((l) => l['msg'] === 'listening' && l['listener'] === 'http', 15_000);
  } finally {
    gw.child.kill('SIGTERM');
  }
  await gw.exited;
  return readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
}

function loadedOf(files: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [feature, fragments] of Object.entries(OPTIONAL)) {
    out[feature] = fragments.filter((f) => files.some((file) => file.includes(f)));
  }
  return out;
}

const listeners = 'listeners:\n  http: { host: 127.0.0.1, port: 0 }\n';
const route = (auth: string) => `routes:\n  - name: api\n    match: { path: /api }\n    auth: ${auth}\n    upstream: http://127.0.0.1:9\n`;

void t.test('a config without tracing, gRPC, CRS, DPoP, introspection or sign-in loads none of their modules', async (t) => {
  const files = await loadedModules([
    listeners,
    'auth:\n  providers: [{ name: dev, issuer: portcullis-dev, jwksFile: config/dev-jwks.json, algorithms: [ES256] }]\n',
    'rateLimits:\n  policies:\n    p: { key: ip, capacity: 10, refillPerSecond: 10 }\n',
    'waf: { mode: block, paranoia: 1 }\n',
    route('{ scopes: [read] }'),
  ].join(''));
  t.ok(files.some((f) => f.endsWith('/dist/src/main.js')), 'the hook recorded the process\'s own modules');
  t.ok(files.some((f) => f.includes('/jose/')), 'and the JWT library this config uses');
  for (const [feature, loaded] of Object.entries(loadedOf(files))) t.same(loaded, [], `${feature}: not loaded`);
});

void t.test('a config that turns them on loads them (the recording works)', async (t) => {
  const crs = crsDir();
  const files = await loadedModules([
    listeners,
    '  authGrpc: { host: 127.0.0.1, port: 0 }\n',
    // nothing listens on :9, the exporter's failures are only logged
    'tracing: { enabled: true, endpoint: http://127.0.0.1:9/v1/traces }\n',
    'auth:\n  providers:\n',
    '    - { name: dev, issuer: portcullis-dev, jwksFile: config/dev-jwks.json, algorithms: [ES256], dpop: allowed }\n',
    '    - { name: opaque, issuer: https://as.invalid, jwksFile: config/dev-jwks.json, introspection: { endpoint: http://127.0.0.1:9/introspect, clientId: c, clientSecret: s } }\n',
    crs === null ? '' : `waf: { crs: { rulesDir: ${JSON.stringify(crs)} } }\n`,
    route('{ scopes: [read] }'),
  ].join(''));
  const loaded = loadedOf(files);
  const expected = ['OpenTelemetry SDK (tracing)', 'gRPC (listeners.authGrpc)', 'DPoP', 'introspection', ...(crs === null ? [] : ['CRS engine (waf.crs)'])];
  for (const feature of expected) t.ok(loaded[feature]!.length > 0, `${feature}: loaded (${loaded[feature]!.join(', ')})`);
  if (crs === null) t.comment('CRS rules absent: the CRS half of this check is skipped');
});
