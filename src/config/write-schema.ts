/**
 * Writes the JSON Schema of the config for editors and users:
 *
 *   node dist/src/config/write-schema.js config/gateway.schema.json          # npm run schema:gen
 *   node dist/src/config/write-schema.js --check config/gateway.schema.json  # npm run schema:check (CI)
 *
 * `--check` exits 1 when the file differs from what would be written, so the
 * shipped schema cannot drift from schema.ts (as fastify's validator integrity check).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { CONFIG_SCHEMA } from './schema.js';

/** The exact text written: 2-space JSON with a trailing newline. */
export function renderSchema(): string {
  return `${JSON.stringify(CONFIG_SCHEMA, null, 2)}\n`;
}

/** Returns the process exit code; messages go to stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  const check = argv[0] === '--check';
  const file = check ? argv[1] : argv[0];
  if (file === undefined || argv.length !== (check ? 2 : 1)) {
    console.error('usage: write-schema [--check] <file>');
    return 2;
  }
  const wanted = renderSchema();
  if (!check) {
    await writeFile(file, wanted);
    return 0;
  }
  const current = await readFile(file, 'utf8').catch(() => null);
  if (current === wanted) return 0;
  console.error(`${file} is out of date with src/config/schema.ts; run \`npm run build && npm run schema:gen\` and commit it`);
  return 1;
}

// Run only as a script, so tests can import renderSchema/main.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
