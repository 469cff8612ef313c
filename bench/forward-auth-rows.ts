// The forward-auth rows (issue 6): decisions per second.
// - direct: autocannon asks /nginx itself, as NGINX's auth_request would, with the baseline's
//   token (RS256, verified once and then served from the token cache) and its URI in
//   X-Original-URI: every request is one full decision (route, authenticate, authorise, identity
//   header, access-log line) answered 200, and nothing is proxied.
// - through NGINX: the baseline's request sent to a real NGINX running the shipped
//   config/nginx/nginx.conf, which asks Portcullis and proxies allowed requests to the shared
//   upstream. Compared with the baseline it shows what an auth_request deployment costs next to a
//   bare Node proxy. CPU and RSS columns are Portcullis's only. Left out when nginx is not installed.
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Child, freePort } from './children.js';
import type { LoadSpec } from './load.js';
import { findNginx, nginxArgs, shippedNginxConf } from './nginx.js';
import { authFixture } from './auth-fixture.js';
import type { BenchEnv, Scenario, Target } from './row.js';
import { startPortcullis } from './start.js';

/** Portcullis with only an auth listener; the route the baseline's request matches. */
export function forwardAuthConfig(port: number, env: BenchEnv): string {
  return [
    'server: { trustedProxies: [127.0.0.1/32] }',
    'listeners:',
    `  auth: { host: 127.0.0.1, port: ${port} }`,
    ...authFixture.authYaml(10_000),
    'routes:',
    '  - name: orders',
    '    match: { path: /api/v1/orders, methods: [GET, POST] }',
    '    auth: { scopes: ["bench:read"] }',
    '    identityHeaders: { X-User-Id: sub }',
    `    upstream: ${env.upstreamUrl}`,
    '',
  ].join('\n');
}

export function forwardAuthScenarios(): Scenario[] {
  // Filled once the fixture has minted the token (the baseline row starts first).
  const direct: LoadSpec = { method: 'GET', path: '/nginx', headers: {} };
  const rows: Scenario[] = [{
    name: 'forward-auth /nginx decisions (direct)',
    load: direct,
    // issue 17: 20,000 decisions per second for each core's worth of CPU the gateway uses
    minPerCoreSec: 20_000,
    start: async (env) => {
      await authFixture.prepare(env.workDir);
      Object.assign(direct.headers!, authFixture.load.headers, {
        'x-original-uri': authFixture.load.path, 'x-original-method': 'GET', 'x-forwarded-for': '203.0.113.10',
      });
      return startPortcullis(env, 'forward-auth', (port) => forwardAuthConfig(port, env));
    },
  }];
  const nginx = findNginx();
  if (nginx === null) {
    process.stderr.write('bench: nginx is not installed; the "forward-auth through NGINX" row is left out\n');
    return rows;
  }
  rows.push(behindProxy('forward-auth through NGINX (auth_request)', 'forward-auth-nginx', (env, pc) => startNginx(nginx, env, pc)));
  return rows;
}

/** A row for the baseline's request through a proxy that asks a forward-auth Portcullis (`start` starts the proxy). */
export function behindProxy(name: string, label: string, start: (env: BenchEnv, pc: Target) => Promise<Target>): Scenario {
  return {
    name,
    load: authFixture.load,
    start: async (env) => {
      await authFixture.prepare(env.workDir);
      const pc = await startPortcullis(env, label, (port) => forwardAuthConfig(port, env));
      try {
        return await start(env, pc);
      } catch (err) {
        await pc.stop();
        throw err;
      }
    },
  };
}

/** NGINX in front of the shared upstream, asking `pc`; the Target's pid is Portcullis's. */
async function startNginx(bin: string, env: BenchEnv, pc: Target): Promise<Target> {
  const prefix = await mkdtemp(join(env.workDir, 'nginx-'));
  const listen = await freePort();
  const conf = join(prefix, 'nginx.conf');
  await writeFile(conf, await shippedNginxConf({ listen, auth: Number(new URL(pc.url).port), backend: Number(new URL(env.upstreamUrl).port) }));
  // Its access log (stdout) goes to a file, like Portcullis's, not to a pipe nobody drains.
  const log = await open(join(prefix, 'access.log'), 'w');
  let child: Child;
  try {
    child = new Child({ name: 'nginx', command: bin, args: nginxArgs(prefix, conf), stdoutFd: log.fd });
  } finally {
    await log.close();
  }
  return frontProxyTarget(child, listen, pc, 'NGINX', prefix);
}

/**
 * A proxy in front of the shared upstream that asks `pc` (NGINX here, HAProxy in haproxy-rows.ts),
 * once it answers: the Target's pid is Portcullis's, and stopping it stops both and removes `dir`.
 */
export async function frontProxyTarget(child: Child, listen: number, pc: Target, label: string, dir: string): Promise<Target> {
  try {
    await waitForStatus(`http://127.0.0.1:${listen}/`, child);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return {
    url: `http://127.0.0.1:${listen}`,
    pid: pc.pid,
    notes: [`CPU and RSS are Portcullis's; ${label}'s own are not counted`],
    stop: async () => {
      await child.stop();
      await pc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Any HTTP answer (a 401 from NGINX or HAProxy here) means the proxy is up and talks to Portcullis. */
async function waitForStatus(url: string, child: Child): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (!child.running) throw new Error(child.describeExit());
    const ok = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then((r) => r.arrayBuffer().then(() => true), () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${child.name}: not ready within 10000 ms`);
}
