import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import t from 'tap';
import { CONFIG_SCHEMA, SCHEMA_DRAFT, SCHEMA_ID } from '../../src/config/schema.js';
import { JWS_ALGORITHMS } from '../../src/auth/schema.js';
import { main, renderSchema } from '../../src/config/write-schema.js';

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every object schema reachable from the root, with its JSON-pointer-ish location. */
function* objectSchemas(node: unknown, at = '#'): Generator<[string, Node]> {
  if (!isNode(node)) return;
  if (node.type === 'object') yield [at, node];
  for (const [k, v] of Object.entries(node)) {
    if (isNode(v)) {
      if (k === 'properties') for (const [p, s] of Object.entries(v)) yield* objectSchemas(s, `${at}/properties/${p}`);
      else yield* objectSchemas(v, `${at}/${k}`);
    } else if (Array.isArray(v)) {
      for (const [i, s] of v.entries()) yield* objectSchemas(s, `${at}/${k}/${i}`);
    }
  }
}

void t.test('identity', async (t) => {
  t.equal(CONFIG_SCHEMA.$schema, SCHEMA_DRAFT);
  t.equal(CONFIG_SCHEMA.$id, SCHEMA_ID);
  t.notOk((JWS_ALGORITHMS as readonly string[]).includes('none'), "'none' is never an accepted algorithm");
});

void t.test('every key is documented and every fixed-shape object is closed', async (t) => {
  let keys = 0;
  for (const [at, schema] of objectSchemas(CONFIG_SCHEMA)) {
    const props = isNode(schema.properties) ? schema.properties : null;
    if (props) {
      t.equal(schema.additionalProperties, false, `${at}: additionalProperties: false`);
      for (const [name, prop] of Object.entries(props)) {
        keys++;
        t.ok(isNode(prop) && typeof prop.description === 'string' && prop.description.length > 10, `${at}/properties/${name} has a description`);
      }
    } else {
      t.ok(isNode(schema.additionalProperties), `${at}: a map declares what its values are`);
    }
  }
  t.ok(keys > 50, `walked ${keys} keys`);
});

void t.test('config/gateway.schema.json is up to date (npm run schema:gen)', async (t) => {
  t.equal(await readFile('config/gateway.schema.json', 'utf8'), renderSchema());
});

void t.test('write-schema writes, and --check detects drift', async (t) => {
  const dir = t.testdir({ 'stale.json': '{}\n' });
  const out = resolve(dir, 'schema.json');
  t.equal(await main([out]), 0);
  t.equal(await readFile(out, 'utf8'), renderSchema());
  t.ok(renderSchema().startsWith('{\n  "$schema"') && renderSchema().endsWith('}\n'), '2-space JSON, trailing newline');
  t.equal(await main(['--check', out]), 0);
  const errors: unknown[] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => void errors.push(args.join(' '));
  try {
    t.equal(await main(['--check', resolve(dir, 'stale.json')]), 1);
    t.equal(await main(['--check', resolve(dir, 'missing.json')]), 1);
    t.equal(await main([]), 2);
  } finally {
    console.error = error;
  }
  t.match(String(errors[0]), /stale\.json is out of date/);
});
