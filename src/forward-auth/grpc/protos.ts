/**
 * Envoy's Authorization service, loaded once per process from our own minimal .proto files
 * (proto/, copied next to this file by the build). Loaded at startup, never per call.
 */
import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import type { ServiceDefinition } from '@grpc/grpc-js';

const PROTO_DIR = fileURLToPath(new URL('./proto/', import.meta.url));

/** The full name grpc-js routes on: /envoy.service.auth.v3.Authorization/Check. */
export const AUTHORIZATION_SERVICE = 'envoy.service.auth.v3.Authorization';

let service: ServiceDefinition | null = null;

/** The service definition (serialisers included), loaded on first use. */
export function authorizationService(): ServiceDefinition {
  if (service === null) {
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
