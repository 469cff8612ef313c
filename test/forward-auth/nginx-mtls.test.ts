/**
 * TLS on the auth listener (issue 14), with a real NGINX: the shipped config/nginx/nginx.conf
 * with the shipped config/nginx/portcullis-tls.conf included as its comments say (proxy_pass to
 * https://, the snippet's certificate paths pointed at generated files), in front of Portcullis
 * whose listeners.auth has cert, key, clientCa and requireClientCert. Decisions flow over mTLS;
 * a caller without NGINX's client certificate cannot even complete a handshake.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import { findNginx, startNginx, type TestNginx } from '../helpers/nginx.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { h1Request, issue, makeCa, serverPki, tempDir, type CertFiles } from '../helpers/certs.js';
import { shippedDoc, startAuthGateway, token, type AuthGateway } from './fixture.js';
import { repoPath } from '../packaging/files.js';

const SNIPPET = repoPath('config/nginx/portcullis-tls.conf');
const PLAIN_PASS = 'proxy_pass http://portcullis_auth/nginx;';

/** The shipped snippet with its four file paths replaced; each must appear exactly once. */
async function snippet(files: Record<string, string>): Promise<string> {
  let text = await readFile(SNIPPET, 'utf8');
  for (const [shipped, path] of Object.entries(files)) {
    const parts = text.split(shipped);
    if (parts.length !== 2) throw new Error(`${SNIPPET} must contain ${shipped} exactly once`);
    text = parts.join(path);
  }
  return text;
}

if (findNginx() === null) {
  if (process.env['CI']) t.fail('nginx is not installed');
  else t.plan(0, 'nginx is not installed (apt-get install nginx)');
} else {
  let backend: RecordingUpstream;
  let pc: AuthGateway;
  let ngx: TestNginx;
  let pki: { ca: CertFiles; server: CertFiles };
  let clientCa: CertFiles;
  let nginxClient: CertFiles;
  let stranger: CertFiles;

  t.before(async () => {
    const dir = await tempDir(t);
    pki = await serverPki(dir, 'auth');
    clientCa = await makeCa(dir, 'nginx-client-ca');
    nginxClient = await issue(dir, 'nginx-client', clientCa, { subject: '/CN=nginx', usage: 'client' });
    const otherCa = await makeCa(dir, 'other-ca');
    stranger = await issue(dir, 'stranger', otherCa, { subject: '/CN=stranger', usage: 'client' });
    backend = await startUpstream();
    pc = await startAuthGateway(await shippedDoc(), { cert: pki.server.cert, key: pki.server.key, clientCa: clientCa.cert, requireClientCert: true });
    ngx = await startNginx({ auth: pc.port, backend: backend.port }, async (text, prefix) => {
      const included = `${prefix}/portcullis-tls.conf`;
      const { writeFile } = await import('node:fs/promises');
      await writeFile(included, await snippet({
        '/etc/nginx/portcullis/nginx-client.crt': nginxClient.cert,
        '/etc/nginx/portcullis/nginx-client.key': nginxClient.key,
        '/etc/nginx/portcullis/portcullis-ca.crt': pki.ca.cert,
      }));
      const parts = text.split(PLAIN_PASS);
      if (parts.length !== 2) throw new Error(`nginx.conf must contain "${PLAIN_PASS}" exactly once`);
      return parts.join(`proxy_pass https://portcullis_auth/nginx;\n      include ${included};`);
    });
  });
  t.teardown(async () => {
    await ngx?.close();
    await pc?.close();
    await backend?.close();
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(ngx.url + path, { headers });
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  };

  void t.test('NGINX asks over mTLS: a valid token reaches the backend with its identity, no token gets 401', async (t) => {
    const before = backend.received.length;
    const res = await get('/api/orders', { authorization: `Bearer ${await token('alice')}` });
    t.equal(res.status, 200);
    t.equal(backend.received.length, before + 1);
    t.equal(backend.received.at(-1)!.headers['x-user-id'], 'alice', 'identity headers from the TLS decision');
    const denied = await get('/api/orders');
    t.equal(denied.status, 401);
    t.equal(denied.headers['www-authenticate'], 'Bearer realm="portcullis"');
    t.equal(backend.received.length, before + 1, 'the backend was not asked');
    const line = pc.gw.access().at(-1)!;
    t.match(line['tls'], /^TLSv1\.[23]$/, 'the access log says the decision came over TLS');
    t.equal(await ngx.errorLog().then((l) => /SSL|certificate/i.test(l)), false, 'no TLS error in the NGINX log');
  });

  void t.test('the auth listener refuses handshakes without NGINX\'s client certificate', async (t) => {
    await t.rejects(h1Request(pc.port, '/nginx', { ca: pki.ca.pem }), 'no client certificate: no handshake');
    await t.rejects(h1Request(pc.port, '/nginx', { ca: pki.ca.pem, cert: stranger.pem, key: await readFile(stranger.key, 'utf8') }), 'a certificate of another CA: no handshake');
    const ok = await h1Request(pc.port, '/nginx', {
      ca: pki.ca.pem, cert: nginxClient.pem, key: await readFile(nginxClient.key, 'utf8'),
      headers: { 'x-original-uri': '/api/orders', 'x-original-method': 'GET' },
    });
    t.equal(ok.status, 401, 'with it: a decision (no token → 401)');
    t.equal(ok.tls, 'TLSv1.3');
    const failures = await pc.gw.metrics.tlsHandshakeFailuresTotal.get();
    t.ok(failures.values.some((v) => v.labels['reason'] === 'client_certificate' && v.value >= 1), 'refused handshakes are counted');
  });

  void t.test('plain HTTP to the TLS auth listener gets no decision', async (t) => {
    await t.rejects(request(`http://127.0.0.1:${pc.port}/nginx`, { headersTimeout: 2_000, bodyTimeout: 2_000 }).then((r) => r.body.text()));
  });
}
