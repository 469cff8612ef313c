/**
 * Certificate rotation as cert-manager does it (issue 7): the mounted files change under a
 * running gateway. New handshakes get the new pair, established connections keep working, no
 * request fails; a broken or mismatched pair is refused with a log line and the old one serves.
 */
import t from 'tap';
import { connect as tlsConnect } from 'node:tls';
import { mkdir, rename, rm, symlink, writeFile, copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { eventually, startGateway, type TestGateway } from '../helpers/gateway.js';
import { h2Connect, h2Request, issue, listenerPort, makeCa, type CertFiles, tempDir } from '../helpers/certs.js';
import { runToExit, startProcess } from '../helpers/process.js';

/** The fingerprint a fresh handshake is served. */
function servedFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
      resolve(s.getPeerX509Certificate()!.fingerprint256);
      s.destroy();
    });
    s.once('error', reject);
  });
}

async function fingerprintOf(file: string): Promise<string> {
  const { X509Certificate } = await import('node:crypto');
  return new X509Certificate(await readFile(file)).fingerprint256;
}

const serverOpts = (cn: string) => ({ subject: `/CN=${cn}`, sans: 'DNS:localhost,IP:127.0.0.1' });

/**
 * A Kubernetes Secret volume: `tls.crt` → `..data/tls.crt`, `..data` → `..<version>`. Rotation
 * writes a new version directory and renames a new `..data` link over the old one (atomic).
 */
async function secretVolume(dir: string, pair: CertFiles, version: string, previous?: string): Promise<void> {
  const v = join(dir, `..${version}`);
  await mkdir(v);
  await copyFile(pair.cert, join(v, 'tls.crt'));
  await copyFile(pair.key, join(v, 'tls.key'));
  await symlink(`..${version}`, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  // The kubelet's AtomicWriter then deletes the old version directory.
  if (previous !== undefined) await rm(join(dir, `..${previous}`), { recursive: true });
}

/** A Secret volume at `<dir>/mount` holding `pair`, with the tls.crt/tls.key links a kubelet makes. */
async function mountSecret(dir: string, pair: CertFiles): Promise<{ mount: string; cert: string; key: string }> {
  const mount = join(dir, 'mount');
  await mkdir(mount);
  await secretVolume(mount, pair, 'v1');
  await symlink('..data/tls.crt', join(mount, 'tls.crt'));
  await symlink('..data/tls.key', join(mount, 'tls.key'));
  return { mount, cert: join(mount, 'tls.crt'), key: join(mount, 'tls.key') };
}

let up: RecordingUpstream;
t.before(async () => { up = await startUpstream(); });
t.teardown(() => up.close());

async function gatewayOn(files: { cert: string; key: string }): Promise<{ gw: TestGateway; port: number }> {
  const gw = await startGateway({
    listeners: { http: { host: '127.0.0.1', port: 0 }, https: { host: '127.0.0.1', port: 0, ...files } },
    routes: [{ name: 'r', match: { path: '/' }, auth: 'none', upstream: up.url }],
  });
  return { gw, port: listenerPort(gw.runtime, 'https') };
}

void t.test('a Secret-volume symlink swap under load: picked up live, zero failed requests', async (t) => {
  const keys = await tempDir(t);
  const ca = await makeCa(keys, 'ca');
  const first = await issue(keys, 'v1', ca, serverOpts('first'));
  const second = await issue(keys, 'v2', ca, serverOpts('second'));
  const { mount, ...files } = await mountSecret(keys, first);
  const { gw, port } = await gatewayOn(files);
  t.teardown(() => gw.close());
  t.equal(await servedFingerprint(port, ca.pem), await fingerprintOf(first.cert));

  // Load: an HTTP/2 session opened before the rotation, keep-alive HTTP/1.1, and a new TLS
  // connection per request (each one a fresh handshake that must succeed with whichever pair).
  const session = await h2Connect(port, { ca: ca.pem });
  t.teardown(() => session.close());
  const keepAlive = new Agent({ connect: { ca: ca.pem, servername: 'localhost' } });
  t.teardown(() => keepAlive.close());
  const failures: string[] = [];
  let ok = 0;
  let h2AfterRotation = 0;
  let rotated = false;
  let stop = false;
  const loop = async (send: () => Promise<number>, onOk = () => {}) => {
    while (!stop) {
      try {
        const status = await send();
        if (status === 200) { ok++; onOk(); } else failures.push(`status ${status}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const base = `https://localhost:${port}`;
  const loops = [
    loop(async () => (await h2Request(session, '/h2')).status, () => { if (rotated) h2AfterRotation++; }),
    loop(async () => { const r = await request(base + '/ka', { dispatcher: keepAlive }); await r.body.dump(); return r.statusCode; }),
    loop(async () => {
      const fresh = new Agent({ connect: { ca: ca.pem, servername: 'localhost' }, pipelining: 0 });
      try {
        const r = await request(base + '/fresh', { dispatcher: fresh, headers: { connection: 'close' } });
        await r.body.dump();
        return r.statusCode;
      } finally {
        await fresh.close();
      }
    }),
  ];
  await new Promise((r) => setTimeout(r, 300));
  await secretVolume(mount, second, 'v2');
  const want = await fingerprintOf(second.cert);
  t.ok(await eventually(() => gw.logs.some((l) => l['msg'] === 'TLS certificate rotated'), 5_000), 'rotation logged');
  rotated = true;
  t.equal(await servedFingerprint(port, ca.pem), want, 'new handshakes get the new certificate');
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await Promise.all(loops);
  t.same(failures, [], 'no request failed');
  t.ok(ok > 30, `requests kept flowing (${ok})`);
  t.ok(h2AfterRotation > 0, 'the HTTP/2 session opened before the rotation kept serving');
  const line = gw.logs.find((l) => l['msg'] === 'TLS certificate rotated')!;
  t.equal(line['subject'], 'CN=second');
  t.equal(line['certificate'], 'default');
});

void t.test('repeated Secret-volume swaps, old versions deleted: each taken, a mismatched one refused until fixed', async (t) => {
  const keys = await tempDir(t);
  const ca = await makeCa(keys, 'ca');
  const pairs = await Promise.all(['one', 'two', 'three'].map((cn) => issue(keys, cn, ca, serverOpts(cn))));
  const [one, two, three] = pairs as [CertFiles, CertFiles, CertFiles];
  const { mount, ...files } = await mountSecret(keys, one);
  const { gw, port } = await gatewayOn(files);
  t.teardown(() => gw.close());
  const rotations = () => gw.logs.filter((l) => l['msg'] === 'TLS certificate rotated');
  const refusals = () => gw.logs.filter((l) => String(l['msg']).startsWith('new TLS certificate refused'));

  await secretVolume(mount, two, 'v2', 'v1');
  t.ok(await eventually(() => rotations().length === 1, 5_000), 'second version taken');
  t.equal(await servedFingerprint(port, ca.pem), await fingerprintOf(two.cert));

  // A Secret updated with a certificate whose key does not match (a botched manual edit).
  await secretVolume(mount, { ...three, key: two.key }, 'v3', 'v2');
  t.ok(await eventually(() => refusals().length === 1, 5_000), 'mismatched version refused');
  t.match(refusals()[0], { certificate: 'default', cert: files.cert, reason: /does not belong to certificate/ });
  t.equal(await servedFingerprint(port, ca.pem), await fingerprintOf(two.cert), 'the previous pair serves, though its files are gone');

  await secretVolume(mount, three, 'v4', 'v3');
  t.ok(await eventually(() => rotations().length === 2, 5_000), 'the fixed version taken');
  t.equal(await servedFingerprint(port, ca.pem), await fingerprintOf(three.cert));
  t.same(rotations().map((l) => l['subject']), ['CN=two', 'CN=three']);
  t.equal(refusals().length, 1, 'one refusal logged, not one per event');
});

void t.test('a broken or mismatched new pair is refused with a log line; the old one keeps serving', async (t) => {
  const dir = await tempDir(t);
  const ca = await makeCa(dir, 'ca');
  const first = await issue(dir, 'first', ca, serverOpts('first'));
  const other = await issue(dir, 'other', ca, serverOpts('other'));
  const certPath = join(dir, 'tls.crt');
  const keyPath = join(dir, 'tls.key');
  await copyFile(first.cert, certPath);
  await copyFile(first.key, keyPath);
  const { gw, port } = await gatewayOn({ cert: certPath, key: keyPath });
  t.teardown(() => gw.close());
  const original = await fingerprintOf(first.cert);
  const refusals = () => gw.logs.filter((l) => String(l['msg']).startsWith('new TLS certificate refused'));

  // Mismatch: another certificate, the old key (written in place, as a naive rotation would).
  await writeFile(certPath, await readFile(other.cert));
  t.ok(await eventually(() => refusals().length === 1, 5_000), 'refusal logged');
  t.match(refusals()[0]!['reason'], /does not belong to certificate/);
  t.match(refusals()[0]!['msg'], /previous one keeps serving/);
  t.equal(await servedFingerprint(port, ca.pem), original, 'the old pair still serves');

  // Garbage where the certificate should be.
  await writeFile(certPath, '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n');
  t.ok(await eventually(() => refusals().length === 2, 5_000));
  t.match(refusals()[1]!['reason'], /does not parse/);
  await rm(keyPath);
  t.ok(await eventually(() => refusals().length === 3, 5_000));
  t.match(refusals()[2]!['reason'], /cannot read private key .*ENOENT/);
  t.equal(await servedFingerprint(port, ca.pem), original);
  t.match(await gw.metrics.registry.metrics(), /portcullis_tls_certificate_reloads_total\{certificate="default",result="rejected"\} 3/);

  // The matching key arrives: the pair is complete and takes over.
  await writeFile(certPath, await readFile(other.cert));
  await writeFile(keyPath, await readFile(other.key));
  t.ok(await eventually(() => gw.logs.some((l) => l['msg'] === 'TLS certificate rotated'), 5_000));
  t.equal(await servedFingerprint(port, ca.pem), await fingerprintOf(other.cert));
  const res = await h2Request(await h2Connect(port, { ca: ca.pem }).then((s) => { t.teardown(() => s.close()); return s; }), '/x');
  t.equal(res.status, 200);
});

void t.test('an unreadable certificate at startup stops the listener from starting', async (t) => {
  const dir = await tempDir(t);
  await t.rejects(startGateway({
    listeners: { https: { host: '127.0.0.1', port: 0, cert: join(dir, 'missing.crt'), key: join(dir, 'missing.key') } },
    routes: [],
  }), /cannot read (certificate|private key) .*missing\.(crt|key): ENOENT/);
});

void t.test('SIGHUP: new certificate paths and HSTS apply without a restart', async (t) => {
  const dir = await tempDir(t);
  const ca = await makeCa(dir, 'ca');
  const first = await issue(dir, 'first', ca, serverOpts('first'));
  const second = await issue(dir, 'second', ca, serverOpts('second'));
  const config = (pair: CertFiles, hsts: string) => [
    'listeners:',
    '  http: { host: 127.0.0.1, port: 0 }',
    `  https: { host: 127.0.0.1, port: 0, cert: "${pair.cert}", key: "${pair.key}", hsts: "${hsts}" }`,
    'routes:',
    `  - { name: r, match: { path: / }, auth: none, upstream: "${up.url}" }`,
    '',
  ].join('\n');
  const file = join(dir, 'gw.yaml');
  await writeFile(file, config(first, 'max-age=60'));
  const gp = await startProcess(['serve', '--config', file]);
  t.teardown(() => gp.kill());
  await gp.waitForLog((l) => l['msg'] === 'listening' && l['listener'] === 'https');
  const port = gp.port('https');
  t.equal(await servedFingerprint(port, ca.pem), await fingerprintOf(first.cert));
  const session = await h2Connect(port, { ca: ca.pem });
  t.teardown(() => session.close());
  t.equal((await h2Request(session, '/')).headers['strict-transport-security'], 'max-age=60');

  await writeFile(file, config(second, 'max-age=120'));
  gp.child.kill('SIGHUP');
  await gp.waitForLog((l) => l['msg'] === 'config reloaded');
  t.notOk(gp.logs.some((l) => String(l['msg']).startsWith('listener settings changed')), 'no restart needed for these keys');
  t.equal(await servedFingerprint(port, ca.pem), await fingerprintOf(second.cert));
  t.equal((await h2Request(session, '/')).headers['strict-transport-security'], 'max-age=120', 'the open session sees the new HSTS');
  gp.child.kill('SIGTERM');
  t.equal(await gp.exited, 0);
});

void t.test('portcullis check loads the certificate files too', async (t) => {
  const dir = await tempDir(t);
  const ca = await makeCa(dir, 'ca');
  const good = await issue(dir, 'good', ca, serverOpts('good'));
  const other = await issue(dir, 'other', ca, serverOpts('other'));
  const config = (key: string) => `listeners:\n  https: { host: 127.0.0.1, port: 0, cert: "${good.cert}", key: "${key}" }\nroutes: []\n`;
  const file = join(dir, 'gw.yaml');
  await writeFile(file, config(good.key));
  const ok = await runToExit(['check', '--config', file]);
  t.equal(ok.code, 0);
  t.match(ok.stdout, /https default: CN=good, valid until /);
  await writeFile(file, config(other.key));
  const bad = await runToExit(['check', '--config', file]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /private key .*other\.key does not belong to certificate .*good\.crt/);
});
