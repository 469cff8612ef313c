/**
 * docs/configuration.md is generated from the schema (src/config/write-reference.ts): it must be
 * up to date, and list every key path with its default, including keys inside arrays, maps and
 * if/then/else unions.
 */
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { main, renderReference } from '../../src/config/write-reference.js';
import { repoPath } from './files.js';

void t.test('docs/configuration.md is what the generator writes', async (t) => {
  t.equal(await readFile(repoPath('docs/configuration.md'), 'utf8'), renderReference(), 'run `npm run build && npm run docs:config`');
  t.equal(await main(['--check', repoPath('docs/configuration.md')]), 0);
  t.equal(await main(['--check', repoPath('README.md')]), 1, '--check fails on a file that differs');
  t.equal(await main([]), 2, 'usage error');
});

void t.test('every kind of key path is there, with type and default', async (t) => {
  const text = renderReference();
  const row = (path: string) => text.split('\n').find((l) => l.startsWith(`| \`${path}\` |`));
  const cells = (path: string) => row(path)?.split(' | ').map((c) => c.replace(/^\| /, ''));
  for (const path of [
    'server.limits.maxBodyBytes', 'listeners.admin.port', 'listeners.https.certificates[].hosts', 'auth.providers[].jwksCooldownSec',
    'auth.tokenSources[].cookie', 'redis.commandTimeoutMs', 'rateLimits.failMode', 'rateLimits.policies.<name>.refillPerSecond',
    'waf.exclusions[].target', 'routes[].upstream.targets', 'routes[].auth.clientCert.sans', 'routes[].requestHeaders.set',
  ]) t.ok(row(path), `${path} has a row`);
  t.same(cells('server.limits.maxBodyBytes')?.slice(1, 3), ['integer 0…1073741824', '`1048576`']);
  t.same(cells('rateLimits.failMode')?.slice(1, 3), ['"open" \\| "closed"', '`"open"`']);
  t.equal(cells('routes[].name')?.[2], 'required');
  t.equal(cells('routes[].auth')?.[1], '"none" or object');
  t.match(text, /^## `routes`$/m);
});
