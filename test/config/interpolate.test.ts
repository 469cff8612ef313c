import t from 'tap';
import { parseDocument } from 'yaml';
import { expandString, interpolateDocument } from '../../src/config/interpolate.js';

const ENV = { HOST: 'api.internal', PORT: '9000', EMPTY: '', FLAG: 'false', TOKEN: 'p@ss:w0rd #1' };

function expand(raw: string, env: NodeJS.ProcessEnv = ENV): { value: string; problems: string[] } {
  const problems: string[] = [];
  const value = expandString(raw, env, problems);
  return { value, problems };
}

/** Parses `yaml`, interpolates it with `env`, returns the JS value and the problems. */
function interpolate(yaml: string, env: NodeJS.ProcessEnv = ENV): { data: unknown; problems: string[] } {
  const doc = parseDocument(yaml);
  t.same(doc.errors, [], 'fixture parses');
  const problems = interpolateDocument(doc, env);
  return { data: doc.toJS(), problems };
}

void t.test('expandString', async (t) => {
  t.same(expand('http://${HOST}:${PORT}/x'), { value: 'http://api.internal:9000/x', problems: [] });
  t.same(expand('${MISSING:-fallback}'), { value: 'fallback', problems: [] });
  t.same(expand('${EMPTY:-fallback}'), { value: 'fallback', problems: [] }, ':- also replaces an empty value, as in sh');
  t.same(expand('[${EMPTY}]'), { value: '[]', problems: [] }, 'set but empty is not an error');
  t.same(expand('${MISSING:-a:-b c}'), { value: 'a:-b c', problems: [] }, 'the default is literal up to "}"');
  t.same(expand('${MISSING:-}'), { value: '', problems: [] });
  t.same(expand('$${HOST} costs $${NOPE:-5}'), { value: '${HOST} costs ${NOPE:-5}', problems: [] }, '$${ is a literal ${');
  t.same(expand('pa$$word $HOST $ {HOST}'), { value: 'pa$$word $HOST $ {HOST}', problems: [] }, 'other dollars are literal');
  t.same(expand('${TOKEN}'), { value: 'p@ss:w0rd #1', problems: [] }, 'values are inserted verbatim');
  t.same(expand('${HOST').problems, ['unterminated "${" (write "$${" for a literal "${")']);
  t.same(expand('${1X} ${A-B} ${}').problems, [
    'invalid placeholder "${1X}" (use ${NAME} or ${NAME:-default}, NAME matching [A-Za-z_][A-Za-z0-9_]*)',
    'invalid placeholder "${A-B}" (use ${NAME} or ${NAME:-default}, NAME matching [A-Za-z_][A-Za-z0-9_]*)',
    'invalid placeholder "${}" (use ${NAME} or ${NAME:-default}, NAME matching [A-Za-z_][A-Za-z0-9_]*)',
  ]);
  t.same(expand('${A}${B}', {}).problems, ['environment variable A is not set', 'environment variable B is not set']);
});

void t.test('a sole placeholder is re-read as a YAML scalar; anything else stays a string', async (t) => {
  const { data, problems } = interpolate([
    'port: ${PORT}',
    'defaultPort: ${NOPE:-8080}',
    'quoted: "${PORT}"',
    'flow: { port: "${PORT}", on: "${FLAG}" }',
    'flag: ${FLAG}',
    'on: ${NOPE:-true}',
    'float: ${NOPE:-1.5}',
    'hex: ${NOPE:-0x1F}',
    'tagged: !!str "${PORT}"',
    'mixed: ${PORT}0',
    'url: http://${HOST}:${PORT}',
    'emptyStaysString: ${EMPTY}',
    'nullStaysString: ${NOPE:-null}',
    'words: ${NOPE:-yes}',
    'literal: 8080',
    'block: |',
    '  ${PORT}',
  ].join('\n'));
  t.same(problems, []);
  t.same(data, {
    port: 9000,
    defaultPort: 8080,
    quoted: 9000,
    flow: { port: 9000, on: false },
    flag: false,
    on: true,
    float: 1.5,
    hex: 31,
    tagged: '9000',
    mixed: '90000',
    url: 'http://api.internal:9000',
    emptyStaysString: '',
    nullStaysString: 'null',
    words: 'yes',
    literal: 8080,
    block: '9000\n',
  });
});

void t.test('environment values cannot restructure the document', async (t) => {
  const env = {
    MULTI: 'x\nadmin: true\nroutes: []',
    MAPPING: 'a: b',
    FLOW: '{ auth: none }',
    SEQ: '[1, 2]',
    ANCHOR: '&a 5',
    COMMENT: '8080 # x',
    DASH: '-',
  };
  const { data, problems } = interpolate(
    'name: ${MULTI}\nm: ${MAPPING}\nf: ${FLOW}\ns: ${SEQ}\na: ${ANCHOR}\nc: ${COMMENT}\nd: ${DASH}\nlist: [x, "${MAPPING}"]\n',
    env,
  );
  t.same(problems, []);
  t.same(data, {
    name: 'x\nadmin: true\nroutes: []',
    m: 'a: b',
    f: '{ auth: none }',
    s: '[1, 2]',
    a: '&a 5',
    c: '8080 # x',
    d: '-',
    list: ['x', 'a: b'],
  });
});

void t.test('keys are structure, not values', async (t) => {
  const { data, problems } = interpolate('${HOST}: ${HOST}\n');
  t.same(problems, []);
  t.same(data, { '${HOST}': 'api.internal' });
});

void t.test('unset variables are errors naming the config path, all of them', async (t) => {
  const { problems } = interpolate([
    'listeners:',
    '  http: { host: "${HOST}", port: "${PORT}" }',
    'routes:',
    '  - name: a',
    '    upstream: http://${UP_HOST}:${UP_PORT}',
    '    identityHeaders: { X-User: "${CLAIM}" }',
  ].join('\n'), { HOST: '0.0.0.0' });
  t.same(problems, [
    'listeners.http.port: environment variable PORT is not set',
    'routes[0].upstream: environment variable UP_HOST is not set',
    'routes[0].upstream: environment variable UP_PORT is not set',
    'routes[0].identityHeaders.X-User: environment variable CLAIM is not set',
  ]);
});

void t.test('process.env is the default environment and is never modified', async (t) => {
  const before = { ...process.env };
  const name = 'PORTCULLIS_TEST_UNLIKELY_VARIABLE';
  t.equal(process.env[name], undefined);
  const doc = parseDocument(`a: \${${name}:-x}\nb: \${PATH}\n`);
  t.same(interpolateDocument(doc), []);
  t.same(doc.toJS(), { a: 'x', b: process.env.PATH });
  t.same(process.env, before);
});
