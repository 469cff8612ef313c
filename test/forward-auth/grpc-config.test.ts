/**
 * listeners.authGrpc in the config (bad values name the key) and the shipped gRPC pair:
 * config/envoy/envoy-grpc.yaml calls the port config/envoy/portcullis-grpc.yaml listens on,
 * fails closed, and that Portcullis config answers a real gRPC client as documented.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfigText } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/validate.js';
import { listenerChangesNeedingRestart } from '../../src/server/listener-changes.js';
import { eventually, startGateway } from '../helpers/gateway.js';
import { CheckClientOf, envoyCheck, grpcPort, headerMap } from '../helpers/grpc-check.js';
import { token } from './fixture.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const read = (path: string) => readFile(resolve(ROOT, path), 'utf8');
const route = { name: 'r', match: {}, auth: 'none' };
const problems = (authGrpc: unknown, extra: Record<string, unknown> = {}): readonly string[] => {
  try {
    validateConfig({ listeners: { authGrpc, ...extra }, routes: [route] });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};

void t.test('listeners.authGrpc: host and port, TLS keys as listeners.auth; bad values name the key', async (t) => {
  const cfg = validateConfig({ listeners: { authGrpc: { host: '127.0.0.1', port: 8082 } }, routes: [route] });
  t.same(cfg.listeners.authGrpc, { host: '127.0.0.1', port: 8082 });
  t.same(problems({ host: '127.0.0.1' }), ['listeners.authGrpc.port: is required']);
  t.same(problems({ host: '127.0.0.1', port: 70_000 }), ['listeners.authGrpc.port: must be between 0 and 65535']);
  t.same(problems({ host: '127.0.0.1', port: 1, path: '/x' }), ['listeners.authGrpc.path: unknown key']);
  t.same(problems({ host: '127.0.0.1', port: 1, cert: '/tls/a.crt' }), ['listeners.authGrpc.key: is required with cert']);
  t.same(problems({ host: '127.0.0.1', port: 1, clientCa: '/tls/ca.crt' }), ['listeners.authGrpc.clientCa: needs cert and key: listeners.authGrpc speaks TLS only with a certificate']);
  t.same(problems({ host: '127.0.0.1', port: 8081 }, { auth: { host: '127.0.0.1', port: 8081 } }), ['listeners.auth.port: 127.0.0.1:8081 clashes with listeners.authGrpc (127.0.0.1:8081)']);
});

void t.test('reload: the address needs a restart, the certificate files do not', async (t) => {
  const a = { authGrpc: { host: '127.0.0.1', port: 8082, cert: '/a.crt', key: '/a.key' } };
  t.same(listenerChangesNeedingRestart(a, { authGrpc: { ...a.authGrpc, port: 8083 } }), ['listeners.authGrpc.port']);
  t.same(listenerChangesNeedingRestart(a, { authGrpc: { ...a.authGrpc, cert: '/b.crt', key: '/b.key' } }), []);
  t.same(listenerChangesNeedingRestart(a, { authGrpc: { host: '127.0.0.1', port: 8082 } }), ['listeners.authGrpc.cert'], 'TLS off needs a restart');
});

interface EnvoyDoc {
  static_resources: {
    listeners: { filter_chains: { filters: { typed_config: { http_filters: { name: string; typed_config: Record<string, unknown> }[] } }[] }[] }[];
    clusters: { name: string; load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { port_value: number } } } }[] }[] } }[];
  };
}

void t.test('config/envoy/envoy-grpc.yaml: V3 gRPC service, fail closed, no body, the port of portcullis-grpc.yaml', async (t) => {
  const envoy = parse(await read('config/envoy/envoy-grpc.yaml')) as EnvoyDoc;
  const filters = envoy.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config.http_filters;
  const authz = filters.find((f) => f.name === 'envoy.filters.http.ext_authz')!.typed_config;
  t.equal(authz['transport_api_version'], 'V3');
  t.equal(authz['failure_mode_allow'], false);
  t.equal(authz['with_request_body'], undefined);
  t.equal(authz['http_service'], undefined);
  const cluster = (authz['grpc_service'] as { envoy_grpc: { cluster_name: string } }).envoy_grpc.cluster_name;
  const port = envoy.static_resources.clusters.find((c) => c.name === cluster)!.load_assignment.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address.port_value;
  const file = resolve(ROOT, 'config/envoy/portcullis-grpc.yaml');
  const cfg = parseConfigText(await read('config/envoy/portcullis-grpc.yaml'), file, {});
  t.equal(cfg.listeners.authGrpc?.port, port);
});

void t.test('config/envoy/portcullis-grpc.yaml answers a gRPC client: 401, then an allow with identity headers', async (t) => {
  const file = resolve(ROOT, 'config/envoy/portcullis-grpc.yaml');
  const cfg = parseConfigText(await read('config/envoy/portcullis-grpc.yaml'), file, {});
  const doc = JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>;
  const gw = await startGateway({ ...doc, listeners: { authGrpc: { host: '127.0.0.1', port: 0 } } });
  t.teardown(() => gw.close());
  t.ok(await eventually(() => gw.logs.some((x) => x['msg'] === 'signing keys loaded'), 5_000));
  const client = new CheckClientOf(`127.0.0.1:${grpcPort(gw)}`);
  t.teardown(() => client.close());
  const anon = await client.check(envoyCheck('GET', '/api/x'));
  t.equal(anon.denied_response?.status?.code, 401);
  const ok = await client.check(envoyCheck('GET', '/api/x', { authorization: `Bearer ${await token('alice')}` }));
  t.equal(ok.status?.code, 0);
  t.equal(headerMap(ok.ok_response?.headers)['x-user-id'], 'alice');
});
