/**
 * Writes the configuration reference (docs/configuration.md) from the config schema, so the
 * reference users read is the schema the gateway validates with (STYLE §4: the schema comments
 * are the config reference):
 *
 *   node dist/src/config/write-reference.js docs/configuration.md          # npm run docs:config
 *   node dist/src/config/write-reference.js --check docs/configuration.md  # npm run docs:config:check (CI)
 *
 * One table row per key path: `routes[].auth.scopes`, `rateLimits.policies.<name>.key`, with its
 * type (and bounds), default and description. `--check` exits 1 when the file is out of date.
 */
import { pathToFileURL } from 'node:url';
import { CONFIG_SCHEMA } from './schema.js';
import { writeOrCheck } from './generated-file.js';

/** The part of JSON Schema that schema.ts uses. */
interface Node {
  readonly type?: string;
  readonly description?: string;
  readonly default?: unknown;
  readonly enum?: readonly unknown[];
  readonly properties?: Readonly<Record<string, Node>>;
  readonly additionalProperties?: Node | boolean;
  readonly required?: readonly string[];
  readonly items?: Node;
  readonly anyOf?: readonly Node[];
  readonly if?: Node;
  readonly then?: Node;
  readonly else?: Node;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
}

interface Row {
  readonly path: string;
  readonly type: string;
  readonly dflt: string;
  readonly description: string;
}

const code = (s: string): string => '`' + s + '`';

/** A cell of a markdown table: no line breaks, pipes escaped. */
function cell(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

function literal(v: unknown): string {
  return typeof v === 'string' ? `"${v}"` : JSON.stringify(v);
}

/** `integer 0…65535`, `string ≤ 2048 chars`, `array ≤ 64 items`. */
function bounds(n: Node): string {
  const range = (lo: number | undefined, hi: number | undefined, unit: string): string => {
    if (lo === undefined && hi === undefined) return '';
    if (lo !== undefined && hi !== undefined) return ` ${lo}…${hi}${unit}`;
    return lo !== undefined ? ` ≥ ${lo}${unit}` : ` ≤ ${hi}${unit}`;
  };
  if (n.type === 'integer' || n.type === 'number') return range(n.minimum, n.maximum, '');
  if (n.type === 'string') return range(n.minLength, n.maxLength, ' chars');
  if (n.type === 'array') return range(n.minItems, n.maxItems, ' items');
  return '';
}

function typeOf(n: Node): string {
  if (n.enum !== undefined) return n.enum.map(literal).join(' | ');
  if (n.if !== undefined) {
    return [n.then, n.else].filter((b): b is Node => b !== undefined).map(typeOf).join(' or ');
  }
  if (n.anyOf !== undefined) return n.anyOf.map(typeOf).join(' or ');
  if (n.type === 'array' && n.items !== undefined) {
    const item = typeOf(n.items);
    return (item.includes(' ') ? `(${item})` : item) + '[]' + bounds(n);
  }
  if (n.type === 'object' && n.properties === undefined && typeof n.additionalProperties === 'object') {
    return `map of ${typeOf(n.additionalProperties)}`;
  }
  if (n.type === 'string' && n.minLength === 1 && n.maxLength === undefined) return 'non-empty string';
  return (n.type ?? 'any') + bounds(n);
}

/** What a `<placeholder>` names, for map keys: policy names, header names, claim paths. */
function placeholder(path: string): string {
  if (path.endsWith('identityHeaders') || path.endsWith('.set')) return '<header>';
  if (path.endsWith('claims')) return '<claim path>';
  return '<name>';
}

function walk(n: Node, path: string, required: boolean, rows: Row[]): void {
  rows.push({
    path,
    type: typeOf(n),
    dflt: n.default !== undefined ? code(JSON.stringify(n.default)) : required ? 'required' : '',
    description: n.description ?? '',
  });
  // Objects: every property; maps: their value schema under a placeholder; arrays: their items;
  // if/then/else unions: the object branch (a route's `upstream` and `auth` objects).
  const object = n.if !== undefined ? n.else : n;
  if (object === undefined) return;
  for (const [key, child] of Object.entries(object.properties ?? {})) {
    walk(child, `${path}.${key}`, object.required?.includes(key) === true, rows);
  }
  if (typeof object.additionalProperties === 'object' && object.additionalProperties.properties !== undefined) {
    descend(object.additionalProperties, `${path}.${placeholder(path)}`, rows);
  }
  if (object.type === 'array' && object.items?.properties !== undefined) descend(object.items, `${path}[]`, rows);
}

/** The keys of a map value or array item (the container's own row already describes it). */
function descend(n: Node, path: string, rows: Row[]): void {
  for (const [key, child] of Object.entries(n.properties ?? {})) {
    walk(child, `${path}.${key}`, n.required?.includes(key) === true, rows);
  }
}

/** The exact text written. */
export function renderReference(schema: Node = CONFIG_SCHEMA as unknown as Node): string {
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`; do not edit by hand.',
    '     `npm run docs:config:check` (CI) fails when this file is out of date. -->',
    '',
    `${schema.description ?? ''} The file is given to \`portcullis serve --config <file>\` and`,
    '`portcullis check --config <file>`; `config/gateway.schema.json` is the same schema for editors.',
    '',
    'Key paths: `a.b` is key `b` of object `a`; `routes[]` is each element of the `routes` array;',
    '`<name>` stands for a key you choose (a policy name, a header name). "required" means the key must',
    'be present whenever its parent is; a default is what an absent key means.',
    '',
  ];
  for (const [section, node] of Object.entries(schema.properties ?? {})) {
    const rows: Row[] = [];
    walk(node, section, schema.required?.includes(section) === true, rows);
    out.push(`## \`${section}\``, '', '| key | type | default | description |', '|---|---|---|---|');
    for (const r of rows) out.push(`| ${code(r.path)} | ${cell(r.type)} | ${cell(r.dflt)} | ${cell(r.description)} |`);
    out.push('');
  }
  return out.join('\n');
}

/** Returns the process exit code; messages go to stderr. */
export function main(argv: readonly string[]): Promise<number> {
  return writeOrCheck({ tool: 'write-reference', regenerate: 'docs:config', render: renderReference }, argv);
}

// Run only as a script, so tests can import renderReference/main.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
