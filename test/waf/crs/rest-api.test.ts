/**
 * config/crs/rest-api.conf on CRS 4.28 itself: each exclusion removes what it says — one rule,
 * one target or one header — and nothing beside it.
 */
import t from 'tap';
import { loadCrs } from '../../../src/waf/crs/loader.js';
import { CRS_ABSENT, crsDir, restApiExclusions } from '../../helpers/crs.js';
import { run } from './helpers.js';

const dir = crsDir();
const skip = dir === null ? CRS_ABSENT : false;
const base: [string, string][] = [['Host', 'api.example.test'], ['User-Agent', 'Mozilla/5.0'], ['Accept', 'application/json']];

void t.test('a Content-Encoding request header is allowed; the other restricted headers are not', { skip }, async (t) => {
  const tuned = loadCrs({ rulesDir: dir!, paranoia: 1, anomalyThreshold: 5, exclusions: [restApiExclusions()] });
  const plain = loadCrs({ rulesDir: dir!, paranoia: 1, anomalyThreshold: 5 });
  const gzip: [string, string][] = [...base, ['Content-Encoding', 'gzip']];
  t.ok(run(plain, { headers: gzip }, false).matchedIds.includes(920450), 'CRS restricts it by default');
  t.notOk(run(tuned, { headers: gzip }, false).matchedIds.includes(920450));
  t.ok(run(tuned, { headers: [...base, ['X-HTTP-Method-Override', 'DELETE']] }, false).matchedIds.includes(920450), 'X-HTTP-Method-Override still is');
});

void t.test('GraphQL variables are not MongoDB operators in a GraphQL query, elsewhere still', { skip }, async (t) => {
  const crs = loadCrs({ rulesDir: dir!, paranoia: 1, anomalyThreshold: 5, exclusions: [restApiExclusions()] });
  const headers: [string, string][] = [...base, ['Content-Type', 'application/json']];
  const body = '{"query":"query Users($first: Int) { users(first: $first) { id } }","variables":{"first":10}}';
  t.notOk(run(crs, { method: 'POST', path: '/graphql', headers, body }, false).matchedIds.includes(942290), 'json.query at /graphql');
  t.ok(run(crs, { method: 'POST', path: '/api/search', headers, body }, false).matchedIds.includes(942290), 'the same body on another path');
  const injected = '{"query":"query { users { id } }","variables":{"where":{"$where":"sleep(100)"}}}';
  t.ok(run(crs, { method: 'POST', path: '/graphql', headers, body: injected }, false).matchedIds.includes(942290), 'the variables of a GraphQL request are still read');
});
