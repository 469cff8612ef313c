/**
 * Checks our minimal .proto files (src/forward-auth/grpc/proto) against Envoy's published ones:
 * every message, field and enum value we declare must exist there with the same number, type
 * name, label and map key type. Run once per change of the protos, with a checkout of
 * envoyproxy/data-plane-api (docs/forward-auth.md, "Envoy over gRPC"):
 *
 *   git clone --depth 1 https://github.com/envoyproxy/data-plane-api /tmp/data-plane-api
 *   npm run build && node dist/bench/envoy-protos.js /tmp/data-plane-api
 *
 * Not part of the test suite: CI has no network, and the official files are not copied here.
 * Only the syntax of each file is parsed, so their imports (validate, udpa …) need not resolve.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const OURS = resolve(fileURLToPath(import.meta.url), '../../../src/forward-auth/grpc/proto');
const FILES = [
  'envoy/service/auth/v3/external_auth.proto',
  'envoy/service/auth/v3/attribute_context.proto',
  'envoy/config/core/v3/base.proto',
  'envoy/config/core/v3/address.proto',
  'envoy/type/v3/http_status.proto',
];

/** `package.Message.field` → "number type label key", `package.Enum.VALUE` → "number". */
function shapes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (ns: protobuf.NamespaceBase, prefix: string): void => {
    for (const n of ns.nestedArray) {
      const name = prefix + '.' + n.name;
      if (n instanceof protobuf.Type) {
        // Type names are compared by their last segment: Envoy writes them relative (type.v3.HttpStatus).
        for (const f of n.fieldsArray) out.set(`${name}.${f.name}`, `${f.id} ${f.type.split('.').pop()} ${f.repeated ? 'repeated' : ''} ${f instanceof protobuf.MapField ? f.keyType : ''}`);
      } else if (n instanceof protobuf.Enum) {
        for (const [k, v] of Object.entries(n.values)) out.set(`${name}.${k}`, String(v));
      }
      if (n instanceof protobuf.Namespace || n instanceof protobuf.Type) walk(n, name);
    }
  };
  walk(protobuf.parse(text, { keepCase: true, alternateCommentMode: true }).root, '');
  return out;
}

function main(official: string): number {
  let checked = 0;
  const problems: string[] = [];
  for (const file of FILES) {
    const theirs = shapes(readFileSync(join(official, file), 'utf8'));
    for (const [key, shape] of shapes(readFileSync(join(OURS, file), 'utf8'))) {
      checked++;
      const want = theirs.get(key);
      if (want !== shape) problems.push(`${file}: ${key} is "${shape}", Envoy's is ${want === undefined ? 'absent' : `"${want}"`}`);
    }
  }
  for (const p of problems) process.stdout.write(p + '\n');
  process.stdout.write(`${checked} fields and enum values checked against ${official}: ${problems.length} differences\n`);
  return problems.length === 0 ? 0 : 1;
}

const dir = process.argv[2];
if (dir === undefined) {
  process.stderr.write('usage: node dist/bench/envoy-protos.js <data-plane-api checkout>\n');
  process.exitCode = 2;
} else {
  process.exitCode = main(dir);
}
