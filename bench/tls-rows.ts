// The rows of issue 7: what TLS termination costs. The passthrough config with an HTTPS listener
// added (TLS 1.3, HTTP/1.1 — autocannon speaks no HTTP/2), loaded over keep-alive connections,
// compared with the plain passthrough row; then one request per connection (`Connection:
// close`, like `ab` without -k), where req/s is new handshakes per second — full handshakes, as
// autocannon resumes no session — with an ECDSA P-256 and an RSA 2048 certificate, and the
// plain-HTTP twin of that row for reference.
//
// autocannon's own reconnectRate cannot be used: it does not count the response that triggers
// the reconnect. With Connection: close every response is counted (one per connection), but its
// latency figures drift (its request queue keeps one request per server-closed connection), so
// those rows carry a note and their latency columns are to be ignored.
//
// The certificates are made for the run with the openssl CLI into the work dir.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './children.js';
import type { LoadSpec } from './load.js';
import { passthroughConfig } from './passthrough-config.js';
import type { BenchEnv, Scenario, Target } from './row.js';
import { startPortcullis } from './start.js';

const run = promisify(execFile);

/** The plain row the HTTPS keep-alive row is compared with (scenarios.ts). */
const PLAIN_ROW = 'portcullis passthrough';

type KeyKind = 'ec' | 'rsa';

/** A self-signed certificate for localhost / 127.0.0.1 in the work dir. */
async function selfSigned(workDir: string, kind: KeyKind): Promise<{ cert: string; key: string }> {
  const cert = join(workDir, `tls-${kind}.crt`);
  const key = join(workDir, `tls-${kind}.key`);
  const keyArgs = kind === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  await run('openssl', [
    'req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { timeout: 30_000 });
  return { cert, key };
}

/** Passthrough with an HTTPS listener beside the plain one (startPortcullis polls the plain one for readiness). */
function httpsPassthroughConfig(port: number, httpsPort: number, upstreamUrl: string, files: { cert: string; key: string }): string {
  return passthroughConfig(port, upstreamUrl, {
    listeners: [`https: { host: 127.0.0.1, port: ${httpsPort}, cert: "${files.cert}", key: "${files.key}", minVersion: TLSv1.3 }`],
  });
}

const PER_CONNECTION_NOTE = 'one request per connection: req/s = new connections (TLS: full handshakes) per second; ignore its latency columns';

async function startHttps(env: BenchEnv, slug: string, kind: KeyKind, notes: string[] = []): Promise<Target> {
  const files = await selfSigned(env.workDir, kind);
  const httpsPort = await freePort();
  const target = await startPortcullis(env, slug, (port) => httpsPassthroughConfig(port, httpsPort, env.upstreamUrl, files));
  return { ...target, url: `https://127.0.0.1:${httpsPort}`, notes };
}

export function tlsScenarios(load: LoadSpec): Scenario[] {
  // A getter: the shared request's headers (the token) are filled in when the baseline starts.
  const perConnection: LoadSpec = {
    method: load.method ?? 'GET',
    path: load.path,
    get headers() { return { ...load.headers, connection: 'close' }; },
  };
  return [
    {
      name: 'portcullis passthrough, HTTPS keep-alive (TLS 1.3, ECDSA)',
      minRatioOver: { row: PLAIN_ROW, min: 0.6 },
      load,
      start: (env) => startHttps(env, 'https-keepalive', 'ec'),
    },
    {
      name: 'new connection per request, plain HTTP',
      load: perConnection,
      start: async (env) => ({ ...await startPortcullis(env, 'plain-per-connection', (port) => passthroughConfig(port, env.upstreamUrl)), notes: [PER_CONNECTION_NOTE] }),
    },
    {
      name: 'new TLS handshake per request (TLS 1.3, ECDSA P-256)',
      load: perConnection,
      start: (env) => startHttps(env, 'https-handshake-ec', 'ec', [PER_CONNECTION_NOTE]),
    },
    {
      name: 'new TLS handshake per request (TLS 1.3, RSA 2048)',
      load: perConnection,
      start: (env) => startHttps(env, 'https-handshake-rsa', 'rsa', [PER_CONNECTION_NOTE]),
    },
  ];
}
