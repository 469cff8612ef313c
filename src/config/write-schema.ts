/**
 * Writes the JSON Schema of the config for editors and users:
 *
 *   node dist/src/config/write-schema.js config/gateway.schema.json          # npm run schema:gen
 *   node dist/src/config/write-schema.js --check config/gateway.schema.json  # npm run schema:check (CI)
 *
 * `--check` exits 1 when the file differs from what would be written, so the
 * shipped schema cannot drift from schema.ts (as fastify's validator integrity check).
 */
import { pathToFileURL } from 'node:url';
import { CONFIG_SCHEMA } from './schema.js';
import { writeOrCheck } from './generated-file.js';

/** The exact text written: 2-space JSON with a trailing newline. */
export function renderSchema(): string {
  return `${JSON.stringify(CONFIG_SCHEMA, null, 2)}\n`;
}

/** Returns the process exit code; messages go to stderr. */
export function main(argv: readonly string[]): Promise<number> {
  return writeOrCheck({ tool: 'write-schema', regenerate: 'schema:gen', render: renderSchema }, argv);
}

// Run only as a script, so tests can import renderSchema/main.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
