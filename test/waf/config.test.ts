import t from 'tap';
import { validateConfig } from '../../src/config/validate.js';
import { ConfigError } from '../../src/config/errors.js';

const base = { listeners: { http: { host: '127.0.0.1', port: 0 } } };
const route = (extra: Record<string, unknown> = {}) => ({ name: 'cms', match: {}, auth: 'none', upstream: 'http://127.0.0.1:9', ...extra });

function problems(doc: Record<string, unknown>): readonly string[] {
  try {
    validateConfig({ ...base, ...doc });
    return [];
  } catch (e) {
    return (e as ConfigError).problems;
  }
}

void t.test('waf keys, defaults and the route override', async (t) => {
  const cfg = validateConfig({ ...base, waf: {}, routes: [route({ waf: 'detect' })] });
  t.same(cfg.waf, { mode: 'block', paranoia: 1, anomalyThreshold: 5, inspectBodyBytes: 65536, exclusions: [] });
  t.equal(cfg.routes[0]!.waf, 'detect');
  t.same(problems({ waf: { mode: 'block', paranoia: 2, anomalyThreshold: 10, inspectBodyBytes: 0, exclusions: [{ route: 'cms', rules: [942100], target: 'args:body' }] }, routes: [route()] }), []);
});

void t.test('bad values name their path', async (t) => {
  t.same(problems({
    waf: { mode: 'on', paranoia: 5, anomalyThreshold: 0, inspectBodyBytes: -1, extra: 1, exclusions: [{ rules: [] }, { rules: [942100], target: 'query:x' }, { route: 'nope', rules: [999999] }] },
    routes: [route({ waf: 'yes' })],
  }), [
    'waf.mode: must be one of block, detect, off',
    'waf.paranoia: must be between 1 and 4',
    'waf.anomalyThreshold: must be between 1 and 1000',
    'waf.inspectBodyBytes: must be between 0 and 1048576',
    'waf.extra: unknown key',
    'waf.exclusions[0].rules: must not be empty',
    'waf.exclusions[1].target: must be path, args, args:<name>, body, headers, headers:<name>, cookies or cookies:<name>',
    'waf.exclusions[2].route: unknown route "nope"',
    'waf.exclusions[2].rules[0]: unknown WAF rule 999999 (docs/waf.md lists the rules)',
    'routes[0].waf: must be one of block, detect, off',
  ]);
});
