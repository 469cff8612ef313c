/**
 * Real redis-server processes on 127.0.0.1 for tests (STYLE §5: no Redis mocks). Each gets a
 * free port (bound to 0 then released: redis-server refuses `--port 0`), no persistence, and is
 * killed in teardown. `stop()` and `start()` again on the same port simulate an outage.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

/**
 * Sends one inline command; returns a bulk reply's content, or the first line of any other
 * reply (`+PONG`, `:1`, `-ERR …`), or '' when nothing answered in time.
 */
export function redisCommand(port: number, command: string, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let buf = '';
    const done = (v: string): void => { clearTimeout(timer); socket.destroy(); resolve(v); };
    const timer = setTimeout(() => done(''), timeoutMs);
    socket.on('connect', () => socket.write(command + '\r\n'));
    socket.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      const nl = buf.indexOf('\r\n');
      if (nl < 0) return;
      const first = buf.slice(0, nl);
      if (!first.startsWith('$') || first === '$-1') return done(first);
      const len = Number(first.slice(1));
      if (Buffer.byteLength(buf) >= nl + 2 + len) done(buf.slice(nl + 2, nl + 2 + len));
    });
    socket.on('error', () => done(''));
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Starts (again) on the same port. */
  start(): Promise<void>;
  /** Kills the server (SIGKILL: an outage, not a shutdown) and waits for it to exit. */
  stop(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that keeps its connections but answers nothing (a stall). */
  pause(): void;
  resume(): void;
  command(command: string): Promise<string>;
}

export interface RedisServerOptions {
  /** Extra redis-server arguments, e.g. ['--cluster-enabled', 'yes']. */
  readonly args?: readonly string[];
  readonly port?: number;
  /** Run as a Sentinel monitoring this master (quorum 1) instead of as a server. */
  readonly sentinelFor?: { readonly name: string; readonly masterPort: number };
}

const started = new Set<ChildProcess>();
const dirs: string[] = [];
process.on('exit', () => {
  for (const c of started) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export async function startRedis(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const port = opts.port ?? await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-redis-'));
  dirs.push(dir);
  let child: ChildProcess | null = null;
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (child !== null) return;
      // Sentinel mode wants its (writable) config file first.
      const sentinel = opts.sentinelFor === undefined ? [] : [join(dir, 'sentinel.conf'), '--sentinel'];
      if (opts.sentinelFor !== undefined) {
        writeFileSync(sentinel[0]!, `sentinel monitor ${opts.sentinelFor.name} 127.0.0.1 ${opts.sentinelFor.masterPort} 1\n`);
      }
      const c = spawn('redis-server', [
        ...sentinel, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...(opts.args ?? []),
      ], { stdio: 'ignore' });
      child = c;
      started.add(c);
      c.once('exit', () => { started.delete(c); if (child === c) child = null; });
      await waitFor(async () => (await redisCommand(port, 'PING', 200)) === '+PONG', 5_000, `redis-server on ${port}`);
    },
    async stop() {
      const c = child;
      if (c === null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGKILL');
      await exited;
      child = null;
    },
    pause() { child?.kill('SIGSTOP'); },
    resume() { child?.kill('SIGCONT'); },
    command: (command: string) => redisCommand(port, command),
  };
  await server.start();
  return server;
}

/** Stops the servers (their temp dirs go when the test process exits). */
export async function stopAll(servers: readonly RedisServer[]): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()));
}

export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  stop(): Promise<void>;
}

/**
 * A 3-master Redis Cluster without replicas, created with redis-cli (about 3 s: redis-cli waits
 * for the nodes to agree). Resolves { skip: reason } where the machine cannot run one.
 */
export async function startCluster(): Promise<RedisCluster | { skip: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-cluster-'));
  dirs.push(dir);
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      nodes.push(await startRedis({
        port, args: ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000'],
      }));
    }
  } catch (err) {
    await stopAll(nodes);
    return { skip: `cannot start cluster nodes: ${(err as Error).message}` };
  }
  const created = spawnSync('redis-cli', [
    '--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes',
  ], { encoding: 'utf8', timeout: 20_000 });
  if (created.status !== 0) {
    await stopAll(nodes);
    return { skip: `redis-cli --cluster create failed: ${created.error?.message ?? created.stderr ?? created.stdout}` };
  }
  try {
    await waitFor(async () => {
      const states = await Promise.all(nodes.map((n) => n.command('CLUSTER INFO')));
      return states.every((s) => s.includes('cluster_state:ok'));
    }, 10_000, 'cluster_state:ok');
  } catch (err) {
    await stopAll(nodes);
    return { skip: (err as Error).message };
  }
  return {
    nodes,
    stop: () => stopAll(nodes),
  };
}

/** The first lines of a YAML config for the built binary sharing `redisUrl`: http and admin listeners on free ports, then the redis block. */
export function redisGatewayYamlHead(redisUrl: string): string[] {
  return [
    'listeners:',
    '  http: { host: 127.0.0.1, port: 0 }',
    '  admin: { host: 127.0.0.1, port: 0 }',
    'redis:',
    `  url: ${redisUrl}`,
  ];
}

/** Writes a config file for the built binary into a fresh temp dir; returns its path. */
export function writeTempConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-cfg-'));
  dirs.push(dir);
  const path = join(dir, 'gateway.yaml');
  writeFileSync(path, yaml);
  return path;
}
