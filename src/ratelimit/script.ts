/**
 * The token-bucket Lua script (token-bucket.lua), read once when this module loads at startup,
 * never on a reload (STYLE §3: no sync I/O after startup). A missing file matters only when
 * Redis is configured, so the error is kept until the script is asked for.
 */
import { readFileSync } from 'node:fs';

let script: string | Error;
try {
  // `npm run build` copies the file next to the compiled module.
  script = readFileSync(new URL('./token-bucket.lua', import.meta.url), 'utf8');
} catch (err) {
  script = err as Error;
}

export function tokenBucketScript(): string {
  if (typeof script === 'string') return script;
  throw new Error(`cannot read the token-bucket script: ${script.message}`, { cause: script });
}
