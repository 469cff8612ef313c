/**
 * Certificates made at test time with the openssl CLI, into a test's own directory: no key is
 * ever committed. EC P-256 keys keep generation fast (a few ms each).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A fresh directory for one test's keys, removed at teardown. Not t.testdir(): its path comes
 * from the test's name, so two runs of the suite in one checkout at once (two engineers, or CI
 * and a developer) would overwrite each other's keys mid-test.
 */
export async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-tls-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface CertFiles {
  readonly cert: string;
  readonly key: string;
  /** PEM text of the certificate. */
  readonly pem: string;
}

export interface IssueOptions {
  /** openssl -subj form: "/CN=alice/O=Acme". */
  subject: string;
  /** subjectAltName value: "DNS:localhost,IP:127.0.0.1". */
  sans?: string;
  /** Validity in days; negative makes an already expired certificate. Default 2. */
  days?: number;
  usage?: 'server' | 'client' | 'both';
}

async function openssl(args: string[]): Promise<void> {
  await run('openssl', args, { timeout: 20_000 });
}

async function newKey(path: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
}

async function files(cert: string, key: string): Promise<CertFiles> {
  return { cert, key, pem: await readFile(cert, 'utf8') };
}

/** A self-signed CA: `<name>.crt`, `<name>.key`. */
export async function makeCa(dir: string, name: string, subject = `/CN=${name} test CA`): Promise<CertFiles> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await newKey(key);
  await openssl([
    'req', '-x509', '-new', '-key', key, '-out', cert, '-subj', subject, '-days', '2',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return files(cert, key);
}

/** A leaf certificate signed by `ca` (or self-signed when `ca` is null): `<name>.crt`, `<name>.key`. */
export async function issue(dir: string, name: string, ca: CertFiles | null, opts: IssueOptions): Promise<CertFiles> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  await newKey(key);
  const usage = opts.usage ?? 'server';
  const eku = usage === 'server' ? 'serverAuth' : usage === 'client' ? 'clientAuth' : 'serverAuth,clientAuth';
  await writeFile(ext, [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    `extendedKeyUsage=${eku}`,
    ...(opts.sans === undefined ? [] : [`subjectAltName=${opts.sans}`]),
  ].join('\n') + '\n');
  await openssl(['req', '-new', '-key', key, '-out', csr, '-subj', opts.subject]);
  const signer = ca === null ? ['-signkey', key] : ['-CA', ca.cert, '-CAkey', ca.key];
  await openssl([
    'x509', '-req', '-in', csr, ...signer, '-out', cert, '-days', String(opts.days ?? 2),
    '-set_serial', '0x' + randomBytes(8).toString('hex'), '-extfile', ext,
  ]);
  return files(cert, key);
}

/** The usual test PKI: a CA and a server certificate for localhost / 127.0.0.1. */
export async function serverPki(dir: string, prefix = 'server'): Promise<{ ca: CertFiles; server: CertFiles }> {
  const ca = await makeCa(dir, `${prefix}-ca`);
  const server = await issue(dir, prefix, ca, { subject: '/CN=localhost', sans: 'DNS:localhost,IP:127.0.0.1' });
  return { ca, server };
}

// ---- TLS clients ---------------------------------------------------------------------------

export interface TlsResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** Negotiated TLS version and ALPN protocol of the connection. */
  readonly tls: string | null;
  readonly alpn: string | false | null;
}

export interface TlsClientOptions {
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
  headers?: Record<string, string>;
  method?: string;
  body?: string;
  /** Where the client connects from (127.0.0.2 …: another client address on loopback). */
  localAddress?: string;
}

/** One HTTP/1.1 request over a new TLS connection (https.request, no agent, no keep-alive). */
export async function h1Request(port: number, path: string, opts: TlsClientOptions = {}): Promise<TlsResponse> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, path, method: opts.method ?? 'GET', agent: false,
      servername: opts.servername ?? 'localhost', ca: opts.ca, cert: opts.cert, key: opts.key,
      headers: { host: 'localhost', ...opts.headers },
    }, (res) => {
      const socket = res.socket as import('node:tls').TLSSocket;
      const tls = socket.getProtocol();
      const alpn = socket.alpnProtocol;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, tls, alpn }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** An HTTP/2 session to 127.0.0.1:port; close it when done. */
export async function h2Connect(port: number, opts: TlsClientOptions = {}): Promise<import('node:http2').ClientHttp2Session> {
  const { connect } = await import('node:http2');
  return new Promise((resolve, reject) => {
    // localAddress reaches net.connect through tls.connect; Node's types leave it out of the TLS options.
    const options: import('node:http2').SecureClientSessionOptions & { localAddress?: string } = {
      host: '127.0.0.1', servername: opts.servername ?? 'localhost', ca: opts.ca, cert: opts.cert, key: opts.key,
      localAddress: opts.localAddress,
    };
    const session = connect(`https://localhost:${port}`, options);
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

/** One request on an HTTP/2 session. */
export function h2Request(session: import('node:http2').ClientHttp2Session, path: string, opts: TlsClientOptions = {}): Promise<TlsResponse> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': opts.method ?? 'GET', ':path': path, ...opts.headers }, { endStream: opts.body === undefined });
    let status = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => {
      status = Number(h[':status']);
      headers = h as Record<string, string | string[] | undefined>;
    });
    stream.on('data', (c: string) => { body += c; });
    const socket = session.socket as import('node:tls').TLSSocket;
    const tls = socket.getProtocol();
    const alpn = socket.alpnProtocol;
    stream.on('end', () => {
      if (status === 0) reject(new Error('stream ended without a response'));
      else resolve({ status, headers, body, tls, alpn });
    });
    stream.on('close', () => { if (status === 0) reject(new Error(`stream closed without a response (code ${stream.rstCode ?? '?'})`)); });
    stream.on('error', reject);
    if (opts.body !== undefined) stream.end(opts.body);
  });
}

/** The bound port of a gateway listener. */
export function listenerPort(runtime: { listeners: readonly { name: string; server: { address(): unknown } }[] }, name: string): number {
  const l = runtime.listeners.find((x) => x.name === name);
  if (l === undefined) throw new Error(`no ${name} listener`);
  return (l.server.address() as import('node:net').AddressInfo).port;
}
