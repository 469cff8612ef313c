import { open } from 'node:fs/promises';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { ConfigError } from './errors.js';
import { interpolateDocument } from './interpolate.js';
import type { GatewayConfig } from './types.js';
import { validateConfig } from './validate.js';

/**
 * Config file → validated, frozen GatewayConfig. Startup, `portcullis check`
 * and SIGHUP reload all come through here, so nothing blocks the event loop
 * and every failure is a ConfigError (never a crash of a serving process).
 */

/** Far above any real config; bounds memory if --config points at the wrong file (or /dev/zero). */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/**
 * Billion-laughs guard: yaml's `maxAliasCount` limits how many nodes aliases
 * may expand to in total, so nested anchors fail fast instead of exhausting
 * memory. A few aliases (one CIDR list reused by several routes) stay fine.
 */
export const MAX_ALIAS_COUNT = 100;

/** Reads (without blocking: it also runs on SIGHUP), parses and validates a config file; throws ConfigError. */
export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<GatewayConfig> {
  return parseConfigText(await readConfigFile(path), path, env);
}

/** Reads at most MAX_CONFIG_BYTES + 1 bytes, as a chunked read also works on pipes (/dev/stdin). */
async function readConfigFile(path: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new ConfigError([`cannot read config file ${path}: ${errorCode(err)}`], path);
  }
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > MAX_CONFIG_BYTES) {
        throw new ConfigError([`config file ${path} is larger than ${MAX_CONFIG_BYTES} bytes`], path);
      }
      chunks.push(buffer.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([`cannot read config file ${path}: ${errorCode(err)}`], path);
  } finally {
    await handle.close();
  }
}

function errorCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : String(err);
}

/**
 * Parses, interpolates and validates config text. `file` only labels the
 * problems. Stops after the first stage that fails: a YAML syntax error
 * makes the tree meaningless, and an unset variable would otherwise come
 * back as a second, confusing schema error on the same key.
 */
export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const lineCounter = new LineCounter();
  // prettyErrors off: its source excerpts are noise in a one-line problem, and
  // building them for pathologically nested input exhausts memory.
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  // Warnings too (an unresolved !tag, a %YAML 1.1 directive): a config must mean exactly what it says.
  const yamlProblems = [...doc.errors, ...doc.warnings].map((e: YAMLError) => {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    return `line ${line}, column ${col}: ${e.message}`;
  });
  if (yamlProblems.length > 0) throw new ConfigError(yamlProblems, file);

  const envProblems = interpolateDocument(doc, env);
  if (envProblems.length > 0) throw new ConfigError(envProblems, file);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // yaml throws a ReferenceError for excessive or unresolvable aliases.
    throw new ConfigError([`YAML aliases: ${err instanceof Error ? err.message : String(err)}`], file);
  }
  if (data === null || data === undefined) {
    throw new ConfigError(['the file is empty (expected a mapping with listeners and routes)'], file);
  }
  return validateConfig(data, file);
}
