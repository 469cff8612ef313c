/**
 * The WAF's block answer as the shipped default config serves it, and as config/gateway.yaml and
 * docs/waf.md describe it: one code everywhere, in the contract's denial shape
 * `{"error":"<code>","requestId":"…"}` (PRODUCT §1). The comment in gateway.yaml once named
 * `waf_blocked`, the access-log decision, as the body's code: a user matching on it never matched.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import { parseConfigText } from '../../src/config/load.js';
import { startUpstream } from '../helpers/upstream.js';
import { startGateway } from '../helpers/gateway.js';
import { repoPath } from './files.js';

/** The code a text states for a WAF block: `403 {"error":"<code>"` or "403` with `{"error":"<code>"". */
function statedCodes(text: string): string[] {
  return [...text.matchAll(/403`?(?: with`?)? `?\{"error":"([a-z_]+)"/g)].map((m) => m[1]!);
}

void t.test('config/gateway.yaml, docs/waf.md and the shipped config agree on the WAF block body', async (t) => {
  const yamlPath = repoPath('config/gateway.yaml');
  const yamlText = await readFile(yamlPath, 'utf8');
  const wafBlock = yamlText.slice(yamlText.indexOf('# WAF'), yamlText.indexOf('\nwaf:'));
  t.same(statedCodes(wafBlock), ['forbidden'], 'gateway.yaml states the code the WAF answers');
  const docs = await readFile(repoPath('docs/waf.md'), 'utf8');
  const blocked = docs.split('\n').find((l) => l.startsWith('- **Blocked**')) ?? '';
  t.same(statedCodes(blocked), ['forbidden'], 'docs/waf.md states the same code');

  const up = await startUpstream();
  t.teardown(() => up.close());
  const cfg = JSON.parse(JSON.stringify(parseConfigText(yamlText, yamlPath, { PORTCULLIS_DEMO_PORT: String(up.port) }))) as Record<string, unknown>;
  const gw = await startGateway({ ...cfg, listeners: { http: { host: '127.0.0.1', port: 0 } } });
  t.teardown(() => gw.close());
  const res = await request(`${gw.url}/public/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E`);
  const body = await res.body.text();
  t.equal(res.statusCode, 403);
  t.equal(body, JSON.stringify({ error: 'forbidden', requestId: res.headers['x-request-id'] }), 'the contract shape, the stated code');
  t.equal(up.received.length, 0, 'blocked before the upstream');
  const clean = await request(`${gw.url}/public/search?q=shoes`);
  await clean.body.dump();
  t.equal(clean.statusCode, 200, 'the twin: a clean request on the same route passes');
});
