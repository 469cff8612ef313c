/**
 * RFC 8705 and the identity token through a real NGINX (issue 20): NGINX terminates TLS with
 * client certificates, forwards `$ssl_client_escaped_cert` to Portcullis's /nginx in the
 * `ssl-client-cert` header of the auth_request, and passes the allow's identity token on to the
 * backend. A token bound to alice's certificate passes with alice's and fails with bob's; the
 * backend receives a token it can verify against the admin JWKS.
 */
import t from 'tap';
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { findNginx, startNginx, type TestNginx } from '../helpers/nginx.js';
import { freePort } from '../helpers/ports.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { h1Request, issue, listenerPort, makeCa, serverPki, tempDir, type CertFiles } from '../helpers/certs.js';
import { makeKey, TestIdp } from '../helpers/idp.js';

function conf(p: { listen: number; auth: number; backend: number; server: CertFiles; clientCa: CertFiles }): string {
  return `
worker_processes 1;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path client_body_temp;
  proxy_temp_path proxy_temp;
  fastcgi_temp_path fastcgi_temp;
  uwsgi_temp_path uwsgi_temp;
  scgi_temp_path scgi_temp;
  server {
    listen 127.0.0.1:${p.listen} ssl;
    ssl_certificate ${p.server.cert};
    ssl_certificate_key ${p.server.key};
    ssl_client_certificate ${p.clientCa.cert};
    ssl_verify_client optional;
    location / {
      auth_request /_portcullis;
      auth_request_set $identity $upstream_http_x_portcullis_identity;
      proxy_set_header X-Portcullis-Identity $identity;
      proxy_pass http://127.0.0.1:${p.backend};
    }
    location = /_portcullis {
      internal;
      proxy_pass http://127.0.0.1:${p.auth}/nginx;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header ssl-client-cert $ssl_client_escaped_cert;
    }
  }
}
`;
}

if (findNginx() === null) {
  if (process.env['CI']) t.fail('nginx is not installed');
  else t.plan(0, 'nginx is not installed (apt-get install nginx)');
} else {
  let backend: RecordingUpstream;
  let gw: TestGateway;
  let ngx: TestNginx;
  let idp: TestIdp;
  let pki: { ca: CertFiles; server: CertFiles };
  const people: Record<'alice' | 'bob', { cert: string; key: string; thumbprint: string }> = {} as never;
  const idpKey = makeKey('ES256');

  t.before(async () => {
    const dir = await tempDir(t);
    pki = await serverPki(dir);
    const clientCa = await makeCa(dir, 'clients');
    for (const name of ['alice', 'bob'] as const) {
      const files = await issue(dir, name, clientCa, { subject: `/CN=${name}`, usage: 'client' });
      people[name] = { cert: files.pem, key: await readFile(files.key, 'utf8'), thumbprint: createHash('sha256').update(new X509Certificate(files.pem).raw).digest('base64url') };
    }
    idp = await TestIdp.start([idpKey]);
    backend = await startUpstream();
    const signing = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    gw = await startGateway({
      server: { trustedProxies: ['127.0.0.1/32'] },
      listeners: { http: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, auth: { host: '127.0.0.1', port: 0 } },
      auth: { providers: [{ name: 'idp', issuer: idp.issuer, jwksUri: idp.jwksUri, algorithms: ['ES256'] }], certificateBound: { forwardedCertHeader: 'ssl-client-cert' } },
      identityTokens: { issuer: 'https://gateway.test', keys: [{ kid: 'ed', alg: 'EdDSA', pem: signing }], current: 'ed' },
      routes: [{ name: 'orders', match: { path: '/orders' }, identityToken: { audience: 'orders' } }],
    });
    const listen = await freePort();
    ngx = await startNginx({ auth: listenerPort(gw.runtime, 'auth'), backend: backend.port, listen }, () => Promise.resolve(conf({
      listen, auth: listenerPort(gw.runtime, 'auth'), backend: backend.port, server: pki.server, clientCa,
    })));
  });
  t.teardown(async () => {
    await ngx?.close();
    await gw?.close();
    await backend?.close();
    await idp?.close();
  });

  void t.test('NGINX terminates mTLS; the bound token passes only with its certificate; the backend verifies the identity token', async (t) => {
    const token = idp.token(idpKey, { cnf: { 'x5t#S256': people.alice.thumbprint } });
    const as = (who: 'alice' | 'bob' | null) => h1Request(ngx.port, '/orders/1', {
      ca: pki.ca.pem, ...(who === null ? {} : { cert: people[who].cert, key: people[who].key }), headers: { authorization: `Bearer ${token}`, 'x-portcullis-identity': 'forged' },
    });
    const before = backend.received.length;
    const ok = await as('alice');
    t.equal(ok.status, 200, `alice's certificate: allowed${ok.status === 200 ? '' : ' — ' + (await ngx.errorLog())}`);
    const rec = backend.received[before]!;
    const identity = rec.headers['x-portcullis-identity'];
    t.type(identity, 'string');
    t.not(identity, 'forged', "the client's copy was replaced by the gateway's");
    const verified = await jwtVerify(String(identity), createRemoteJWKSet(new URL(`${gw.adminUrl}/.well-known/jwks.json`)), { issuer: 'https://gateway.test', audience: 'orders' });
    t.equal(verified.payload.sub, 'alice');
    t.equal(verified.protectedHeader.alg, 'EdDSA');

    t.equal((await as('bob')).status, 401, "bob's certificate: the token is not his");
    t.equal((await as(null)).status, 401, 'no certificate');
    t.equal(backend.received.length, before + 1, 'only the allowed request reached the backend');
  });
}
