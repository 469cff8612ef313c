import { resolve } from 'node:path';
import t from 'tap';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfigFile, MAX_CONFIG_BYTES, parseConfigText } from '../../src/config/load.js';

const MINIMAL = 'listeners:\n  http: { host: 127.0.0.1, port: 0 }\nroutes: []\n';

/** The ConfigError `fn` throws (sync or async); fails the test otherwise. */
async function configError(fn: () => unknown): Promise<ConfigError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

void t.test('loads, interpolates with the given env, validates', async (t) => {
  const dir = t.testdir({
    'gw.yaml': [
      'listeners:',
      '  http:',
      '    host: ${HOST:-127.0.0.1}',
      '    port: ${PORT}',
      'routes:',
      '  - name: up',
      '    match: { path: /x }',
      '    auth: none',
      '    upstream: http://127.0.0.1:${UP_PORT:-8070}',
    ].join('\n'),
  });
  const cfg = await loadConfigFile(resolve(dir, 'gw.yaml'), { PORT: '8080' });
  t.same(cfg.listeners.http, { host: '127.0.0.1', port: 8080, redirectToHttps: false });
  t.equal(cfg.routes[0]?.upstream, 'http://127.0.0.1:8070');
  t.ok(Object.isFrozen(cfg.listeners.http));
});

void t.test('the shipped config/gateway.yaml is valid', async (t) => {
  const cfg = await loadConfigFile('config/gateway.yaml', {});
  t.equal(cfg.listeners.http?.port, 8080);
  t.ok(cfg.routes.length > 0);
});

void t.test('a missing file is a ConfigError naming the path and the errno code', async (t) => {
  const path = resolve(t.testdir({}), 'nope.yaml');
  const err = await configError(() => loadConfigFile(path, {}));
  t.same(err.problems, [`cannot read config file ${path}: ENOENT`]);
  t.equal(err.file, path);
  t.equal(err.message, `invalid config ${path}:\n  - cannot read config file ${path}: ENOENT`);
  const dir = t.testdir({});
  t.same((await configError(() => loadConfigFile(dir, {}))).problems, [`cannot read config file ${dir}: EISDIR`]);
});

void t.test('a file over the size bound is refused', async (t) => {
  const dir = t.testdir({ 'big.yaml': `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n` });
  const path = resolve(dir, 'big.yaml');
  t.same((await configError(() => loadConfigFile(path, {}))).problems, [`config file ${path} is larger than ${MAX_CONFIG_BYTES} bytes`]);
});

void t.test('validation problems carry the file name', async (t) => {
  const err = await configError(() => parseConfigText('listeners:\n  http: { host: 127.0.0.1, port: x }\nroutes: []\n', 'gw.yaml', {}));
  t.equal(err.message, 'invalid config gw.yaml:\n  - listeners.http.port: must be an integer');
});

void t.test('YAML errors have line and column', async (t) => {
  t.same((await configError(() => parseConfigText(`${MINIMAL}routes: []\n`, 'gw.yaml', {}))).problems, [
    'line 4, column 1: Map keys must be unique',
  ]);
  t.same((await configError(() => parseConfigText('listeners:\n  http: { host: 1, port: 2\nroutes: []\n', 'gw.yaml', {}))).problems.slice(0, 1), [
    'line 3, column 1: Flow map in block collection must be sufficiently indented and end with a }',
  ]);
  t.same((await configError(() => parseConfigText(`${MINIMAL}---\n${MINIMAL}`, 'gw.yaml', {}))).problems, [
    'line 4, column 1: Source contains multiple documents; please use YAML.parseAllDocuments()',
  ]);
  t.same((await configError(() => parseConfigText(`${MINIMAL}server: !custom {}\n`, 'gw.yaml', {}))).problems, [
    'line 4, column 9: Unresolved tag: !custom',
  ]);
});

void t.test('an empty file says so', async (t) => {
  for (const text of ['', '# only a comment\n']) {
    t.same((await configError(() => parseConfigText(text, 'gw.yaml', {}))).problems, [
      'the file is empty (expected a mapping with listeners and routes)',
    ]);
  }
});

void t.test('interpolation problems stop before validation', async (t) => {
  t.same((await configError(() => parseConfigText('listeners:\n  http:\n    host: 127.0.0.1\n    port: ${PORT}\nroutes: []\n', 'gw.yaml', {}))).problems, [
    'listeners.http.port: environment variable PORT is not set',
  ]);
});

void t.test('an injected value stays inside its scalar', async (t) => {
  const text = 'listeners:\n  http: { host: "${HOST}", port: 0 }\nroutes: []\n';
  const injected = '127.0.0.1\nroutes: [{ name: x }]\nredis: {}';
  t.same((await configError(() => parseConfigText(text, 'gw.yaml', { HOST: injected }))).problems, [
    'listeners.http.host: must be an IP address or host name',
  ], 'no unknown redis key, no half-built route: only a bad host');
  const cfg = parseConfigText('listeners:\n  http: { host: 127.0.0.1, port: 0 }\nroutes:\n  - name: a\n    match: {}\n    upstream: "http://a:1"\n    requestHeaders: { set: { X-Env: "${ENV}" } }\n', 'gw.yaml', { ENV: 'x\nauth: none' });
  t.equal(cfg.routes[0]?.auth, undefined, 'the route still requires a token');
  t.same(cfg.routes[0]?.requestHeaders.set, { 'X-Env': 'x\nauth: none' });
});

void t.test('a few aliases are fine; a billion laughs is refused quickly', async (t) => {
  const reuse = [
    'server:',
    '  trustedProxies: &nets [10.0.0.0/8, 127.0.0.1]',
    'listeners:',
    '  http: { host: 127.0.0.1, port: 0 }',
    'routes:',
    '  - { name: a, match: {}, upstream: "http://a:1", auth: none, allowCidrs: *nets }',
    '  - { name: b, match: {}, upstream: "http://b:1", auth: none, allowCidrs: *nets }',
  ].join('\n');
  const cfg = parseConfigText(reuse, 'gw.yaml', {});
  t.same(cfg.routes[1]?.allowCidrs, ['10.0.0.0/8', '127.0.0.1']);

  let lol = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  let prev = 'a';
  for (const n of 'bcdefghi') {
    lol += `${n}: &${n} [${Array(9).fill(`*${prev}`).join(',')}]\n`;
    prev = n;
  }
  const started = Date.now();
  const err = await configError(() => parseConfigText(lol, 'lol.yaml', {}));
  t.same(err.problems, ['YAML aliases: Excessive alias count indicates a resource exhaustion attack']);
  t.ok(Date.now() - started < 1000, 'fails fast');
});

void t.test('deeply nested input is an error, not a crash', async (t) => {
  const text = `listeners: ${'['.repeat(50_000)}${']'.repeat(50_000)}\nroutes: []\n`;
  const err = await configError(() => parseConfigText(text, 'deep.yaml', {}));
  t.ok(err.problems.length > 0);
});
