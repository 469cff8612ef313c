/**
 * Envoy ext_authz over gRPC next to /envoy over HTTP: the built binary with both listeners, the
 * same decision asked N times each way (a dev-key token on an authenticated route with an
 * identity header, the token served from the token cache after the first call), C calls in
 * flight. Reports decisions per second and the Portcullis process's CPU per decision (utime +
 * stime from /proc, so a loaded machine inflates the wall clock, not the CPU figure).
 *
 *   npm run build && node dist/bench/envoy-grpc.js [N=4000] [C=16]
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, makeGenericClientConstructor, type Client } from '@grpc/grpc-js';
import { request, Agent } from 'undici';
import { mintDevToken } from '../src/auth/dev-token.js';
import { authorizationService } from '../src/forward-auth/grpc/protos.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const N = Number(process.argv[2] ?? 4000);
const C = Number(process.argv[3] ?? 16);

const CONFIG = `
server: { trustedProxies: [127.0.0.1/32] }
listeners:
  auth: { host: 127.0.0.1, port: 0 }
  authGrpc: { host: 127.0.0.1, port: 0 }
auth:
  providers: [{ name: dev, issuer: portcullis-dev, jwksFile: ${join(ROOT, 'config/dev-jwks.json')}, algorithms: [ES256] }]
routes:
  - { name: api, match: { path: /api }, identityHeaders: { X-User-Id: sub } }
`;

/** CPU seconds (user + system) of a process so far. */
function cpuSec(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function run(label: string, pid: number, one: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 200; i++) await one(); // warm-up: JIT, token cache, connections
  const cpu0 = cpuSec(pid);
  const t0 = process.hrtime.bigint();
  let next = 0;
  await Promise.all(Array.from({ length: C }, async () => { while (next++ < N) await one(); }));
  const wallSec = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuUs = ((cpuSec(pid) - cpu0) / N) * 1e6;
  process.stdout.write(`${label.padEnd(14)} ${String(Math.round(N / wallSec)).padStart(7)} decisions/s  ${cpuUs.toFixed(0).padStart(5)} µs CPU per decision (Portcullis)\n`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-grpc-'));
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, CONFIG);
  const child = spawn(process.execPath, [join(ROOT, 'dist/src/main.js'), 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const ports = new Map<string, number>();
    let buf = '';
    await new Promise<void>((ready, fail) => {
      child.once('exit', () => fail(new Error('portcullis exited')));
      child.stdout!.on('data', (c: Buffer) => {
        buf += c.toString('utf8');
        for (const m of buf.matchAll(/"listener":"(\w+)","address":"[^"]*","port":(\d+)/g)) ports.set(m[1]!, Number(m[2]));
        if (ports.size === 2) ready();
      });
    });
    child.stdout!.resume();
    const token = await mintDevToken({ sub: 'bench' });
    const Authorization = makeGenericClientConstructor(authorizationService(), 'Authorization');
    const client = new Authorization(`127.0.0.1:${ports.get('authGrpc')}`, credentials.createInsecure()) as unknown as Client & { Check(r: unknown, cb: (e: Error | null, r?: { status?: { code?: number } }) => void): void };
    const check = { attributes: { request: { http: { method: 'GET', path: '/api/orders', host: 'app.example.com', headers: { authorization: `Bearer ${token}` } } } } };
    await run('gRPC Check', child.pid!, () => new Promise((done, fail) => client.Check(check, (e, r) => (e !== null || r?.status?.code !== 0 ? fail(e ?? new Error('denied')) : done()))));
    const agent = new Agent({ connections: C });
    const url = `http://127.0.0.1:${ports.get('auth')}/envoy/api/orders`;
    await run('HTTP /envoy', child.pid!, async () => {
      const r = await request(url, { dispatcher: agent, headers: { host: 'app.example.com', authorization: `Bearer ${token}` } });
      await r.body.dump();
      if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`);
    });
    client.close();
    await agent.close();
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
