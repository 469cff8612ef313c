/**
 * listeners.authGrpc in the built binary: SIGHUP reloads under continuous Check calls lose none
 * and the new routes answer on the open channel; SIGTERM lets a Check in flight (a slow
 * introspection) finish, sends GOAWAY on the open connection and exits 0 well before the grace
 * period. And TLS with the certificate machinery of listeners.auth.
 */
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { credentials } from '@grpc/grpc-js';
import { serveConfigFile } from '../helpers/process.js';
import { TestAuthServer } from '../helpers/introspection.js';
import { CheckClientOf, envoyCheck, grpcPort, headerMap } from '../helpers/grpc-check.js';
import { serverPki, tempDir } from '../helpers/certs.js';
import { startGateway } from '../helpers/gateway.js';

const GRACE_MS = 5_000;

function configText(as: TestAuthServer, extraRoute = ''): string {
  return `
server: { shutdownGraceMs: ${GRACE_MS}, trustedProxies: [127.0.0.1/32] }
listeners:
  authGrpc: { host: 127.0.0.1, port: 0 }
auth:
  providers:
    - name: as
      issuer: ${as.issuer}
      jwksUri: ${as.issuer}/jwks
      algorithms: [RS256]
      introspection: { endpoint: ${as.endpoint}, clientId: gw, clientSecret: s3cret, timeoutMs: 3000 }
routes:
  - { name: public, match: { path: /public }, auth: none }
  - { name: api, match: { path: /api }, identityHeaders: { X-User-Id: sub } }
${extraRoute}`;
}

async function setup(t: Test) {
  const as = await TestAuthServer.start('gw', 's3cret');
  as.active.set('opaque-ivy', { sub: 'ivy' });
  const { gp, file } = await serveConfigFile(t, configText(as), () => as.close());
  // Generous: a loaded CI machine has taken 7 s to start the binary.
  await gp.waitForLog((l) => l['msg'] === 'listening' && l['listener'] === 'authGrpc', 30_000);
  const client = new CheckClientOf(`127.0.0.1:${gp.port('authGrpc')}`);
  t.teardown(() => client.close());
  return { as, file, gp, client };
}

void t.test('SIGHUP under continuous Check calls: none fails, the new route answers on the open channel', async (t) => {
  const { as, file, gp, client } = await setup(t);
  let ok = 0;
  const failures: string[] = [];
  let stop = false;
  const worker = async () => {
    for (let i = 0; i < 2000 && !stop; i++) {
      try {
        const r = await client.check(envoyCheck('GET', '/public/x'));
        if (r.status?.code === 0) ok++;
        else failures.push(String(r.denied_response?.status?.code));
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  const extra = '  - { name: extra, match: { path: /extra }, auth: none }\n';
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 150));
    writeFileSync(file, configText(as, i % 2 === 0 ? extra : ''));
    gp.child.kill('SIGHUP');
    await gp.waitForLog(() => gp.logs.filter((x) => x['msg'] === 'config reloaded').length > i, 30_000);
  }
  stop = true;
  await Promise.all(workers);
  t.same(failures, [], 'no Check failed across four reloads');
  t.ok(ok > 20, `${ok} checks answered OK`);
  t.equal((await client.check(envoyCheck('GET', '/extra'))).denied_response?.status?.code, 404, 'the last reload removed /extra');
  writeFileSync(file, configText(as, extra));
  gp.child.kill('SIGHUP');
  await gp.waitForLog(() => gp.logs.filter((x) => x['msg'] === 'config reloaded').length > 4, 30_000);
  t.equal((await client.check(envoyCheck('GET', '/extra'))).status?.code, 0, 'the same channel sees the new route');
});

void t.test('SIGTERM: a Check in flight finishes, the open connection gets GOAWAY, exit 0 before the grace period', async (t) => {
  const { as, gp, client } = await setup(t);
  t.equal((await client.check(envoyCheck('GET', '/public/x'))).status?.code, 0, 'the connection is open');
  as.delayMs = 800;
  const inFlight = client.check(envoyCheck('GET', '/api/x', { authorization: 'Bearer opaque-ivy' }));
  await new Promise((r) => setTimeout(r, 200));
  const termAt = Date.now();
  gp.child.kill('SIGTERM');
  const r = await inFlight;
  t.equal(r.status?.code, 0, 'the call in flight was answered');
  t.equal(headerMap(r.ok_response?.headers)['x-user-id'], 'ivy');
  const code = await gp.exited;
  const tookMs = Date.now() - termAt;
  t.equal(code, 0);
  // Without GOAWAY the idle HTTP/2 connection would hold the drain until the grace period ends.
  t.ok(tookMs < GRACE_MS - 1_000, `exited ${tookMs} ms after SIGTERM, grace ${GRACE_MS} ms`);
  t.ok(gp.logs.some((l) => l['msg'] === 'access' && l['status'] === 200 && l['sub'] === 'ivy' && l['protocol'] === 'gRPC'), 'the drained call was logged');
  const after = await client.checkError(envoyCheck('GET', '/public/x'), 1_000);
  t.ok(after !== null, 'after the drain no call is answered');
});

void t.test('TLS: h2 by ALPN with the listener\'s certificate; a client that does not trust it fails', async (t) => {
  const dir = await tempDir(t);
  const { ca, server } = await serverPki(dir);
  const gw = await startGateway({
    server: { trustedProxies: ['127.0.0.1/32'] },
    listeners: { authGrpc: { host: '127.0.0.1', port: 0, cert: server.cert, key: server.key } },
    routes: [{ name: 'public', match: { path: '/public' }, auth: 'none' }],
  });
  t.teardown(() => gw.close());
  const address = `127.0.0.1:${grpcPort(gw)}`;
  const good = new CheckClientOf(address, credentials.createSsl(Buffer.from(ca.pem)), { 'grpc.ssl_target_name_override': 'localhost' });
  t.teardown(() => good.close());
  t.equal((await good.check(envoyCheck('GET', '/public/x', { 'x-request-id': 'over-tls' }))).status?.code, 0);
  t.match(gw.access().find((l) => l['requestId'] === 'over-tls'), { protocol: 'gRPC', tls: /^TLSv1\.[23]$/ });
  const plain = new CheckClientOf(address);
  t.teardown(() => plain.close());
  t.ok((await plain.checkError(envoyCheck('GET', '/public/x'), 2_000)) !== null, 'clear text to a TLS port is refused');
  const untrusting = new CheckClientOf(address, credentials.createSsl(), { 'grpc.ssl_target_name_override': 'localhost' });
  t.teardown(() => untrusting.close());
  t.ok((await untrusting.checkError(envoyCheck('GET', '/public/x'), 2_000)) !== null, 'an unknown CA fails the handshake');
});
