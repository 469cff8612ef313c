/**
 * Envoy's Authorization service, loaded once per process from our own minimal .proto files
 * (proto/, copied next to this file by the build). Loaded at startup, never per call.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@grpc/grpc-js';

/**
 * grpc-js and proto-loader (CommonJS) are loaded only by a process with listeners.authGrpc:
 * they cost every other start about 0.2 s of CPU (docs/forward-auth.md).
 */
const lazyRequire = createRequire(import.meta.url);

export function grpcJs(): typeof import('@grpc/grpc-js') {
  return lazyRequire('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
}

const PROTO_DIR = fileURLToPath(new URL('./proto/', import.meta.url));

/** The full name grpc-js routes on: /envoy.service.auth.v3.Authorization/Check. */
export const AUTHORIZATION_SERVICE = 'envoy.service.auth.v3.Authorization';

let service: ServiceDefinition | null = null;

/** The service definition (serialisers included), loaded on first use. */
export function authorizationService(): ServiceDefinition {
  if (service === null) {
    const { loadSync } = lazyRequire('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
    const definition = loadSync('envoy/service/auth/v3/external_auth.proto', {
      includeDirs: [PROTO_DIR],
      // Field names as Envoy spells them (header_map, headers_to_remove), not camelCase.
      keepCase: true,
      longs: String,
      enums: Number,
      // Absent stays undefined: "no path" must not read as "path ''".
      defaults: false,
      oneofs: true,
    });
    service = definition[AUTHORIZATION_SERVICE] as ServiceDefinition;
  }
  return service;
}
