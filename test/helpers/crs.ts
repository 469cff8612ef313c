/**
 * Where the OWASP CRS rules for tests live: `../shared/crs-4.28` beside the repository (CI lays
 * a read-only copy there; CRS_RULES_DIR overrides). Never a copy inside the repository: the
 * product loads CRS from where the user keeps it (issue 18). null when absent, so a test can
 * skip with a message that says why.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

export function crsDir(): string | null {
  const dir = process.env['CRS_RULES_DIR'] ? resolve(process.env['CRS_RULES_DIR']) : resolve(repoRoot(), '..', 'shared', 'crs-4.28');
  return existsSync(join(dir, 'rules')) ? dir : null;
}

export const CRS_ABSENT = 'OWASP CRS 4.28 not found at ../shared/crs-4.28 beside the repository (set CRS_RULES_DIR)';

/** The repository's own CRS tuning file (config/crs/rest-api.conf). */
export function restApiExclusions(): string {
  return join(repoRoot(), 'config', 'crs', 'rest-api.conf');
}

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A temporary rules directory holding `files` (name → SecLang text), for tests of the engine on rules of their own; removed at exit. */
export function ruleDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-crs-'));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
