import { Ajv } from 'ajv';
import { ConfigError } from './errors.js';
import { describeAjvErrors, formatProblem, sortByDocumentOrder } from './messages.js';
import { CONFIG_SCHEMA } from './schema.js';
import { checkSemantics } from './semantic.js';
import type { GatewayConfig } from './types.js';

// Compiled once at module load (fastify's precompiled validator, STYLE §1):
// startup, `portcullis check` and every SIGHUP reuse it.
// - The default `Ajv` class speaks draft-07, the `$schema` of CONFIG_SCHEMA
//   (Ajv2019/Ajv2020 would reject it); ajv checks the schema against the
//   draft-07 meta-schema while compiling.
// - strict: a typo in the schema itself (unknown keyword, ignored default)
//   fails here, at import, rather than silently weakening validation.
// - verbose: errors carry their parentSchema, where messages.ts finds the
//   schema's own `errorMessage`.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, verbose: true });
// Annotation only: read by messages.ts (and by editors), no validation of its own.
ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
const validateStructure = ajv.compile(CONFIG_SCHEMA);

/** Beyond this, more problems are noise (allErrors on a wrong file can yield thousands). */
const MAX_PROBLEMS = 50;

/**
 * Validates a parsed config document: structure, bounds and defaults from the
 * schema, then the semantic rules of semantic.ts. Throws a ConfigError
 * listing every problem as `path: message`; returns the config with defaults
 * filled in, deep-frozen. The argument itself is never modified.
 */
export function validateConfig(doc: unknown, file?: string): GatewayConfig {
  // useDefaults writes into the data: work on a copy so callers' objects stay untouched.
  const data: unknown = structuredClone(doc);
  const structural = validateStructure(data) ? [] : describeAjvErrors(validateStructure.errors ?? [], data);
  const ordered = sortByDocumentOrder([...structural, ...checkSemantics(data)], data);
  const problems = [...new Set(ordered.map(formatProblem))];
  if (problems.length > 0) {
    const shown = problems.length > MAX_PROBLEMS
      ? [...problems.slice(0, MAX_PROBLEMS), `… and ${problems.length - MAX_PROBLEMS} more problems`]
      : problems;
    throw new ConfigError(shown, file);
  }
  return deepFreeze(data as GatewayConfig);
}

/** Freezes every object and array reachable from `value`. Safe on shared (YAML alias) and cyclic references. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
