/**
 * The Dockerfile, checked statically and run without a container engine: its runtime stage's
 * COPY instructions and `npm ci` line are replayed into a temp directory (the container's
 * filesystem, with / mapped to that directory), then its ENTRYPOINT + CMD are executed there with
 * a temp copy of the baked-in config on loopback, and must answer /healthz, serve the demo routes,
 * pass the HEALTHCHECK command, write nothing, and exit 0 on SIGTERM.
 */
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { request } from 'undici';
import { freePort } from '../helpers/ports.js';
import { stringify } from 'yaml';
import {
  configArg, copyArgs, execForm, instructions, last, listenerPorts, portcullisCheck, readDockerfile, readYaml, repoPath,
  type Dockerfile, type Json, type Stage,
} from './files.js';

const run = promisify(execFile);

const runtimeStage = (df: Dockerfile): Stage => df.stages.at(-1)!;
const buildStage = (df: Dockerfile): Stage => df.stages.find((s) => s.name === 'build')!;
const workdir = (s: Stage): string => last(s, 'WORKDIR')?.args ?? '/';
const command = (s: Stage): string[] => [...execForm(last(s, 'ENTRYPOINT')!.args), ...execForm(last(s, 'CMD')!.args)];

/** The HEALTHCHECK's exec-form command (after its --options and CMD). */
function healthcheck(s: Stage): string[] {
  const m = /^(?:--\S+\s+)*CMD\s+(\[.*\])$/s.exec(last(s, 'HEALTHCHECK')?.args ?? '');
  if (m === null) throw new Error('HEALTHCHECK is not `[--options] CMD [exec form]`');
  return execForm(m[1]!);
}

/** The `npm ci …` words of a RUN line (up to `&&`), without RUN's own --mount flags. */
function npmCi(s: Stage): string[] | null {
  for (const i of instructions(s, 'RUN')) {
    const m = /(?:^|\s)(npm ci(?:\s+[^&;|]*)?)/.exec(i.args);
    if (m !== null) return m[1]!.trim().split(/\s+/);
  }
  return null;
}

/** Where the runtime stage COPYs a container path from: the repository file it comes from. */
function copiedFrom(df: Dockerfile, containerPath: string): string | null {
  const s = runtimeStage(df);
  for (const c of instructions(s, 'COPY').map((i) => copyArgs(i.args)).reverse()) {
    const dest = posix.resolve(workdir(s), c.dest);
    if (c.from === null && c.sources.length === 1 && dest === containerPath) return repoPath(c.sources[0]!);
  }
  return null;
}

void t.test('Dockerfile: stages, base image, user, ports, config', async (t) => {
  const df = await readDockerfile();
  const rt = runtimeStage(df);
  const build = buildStage(df);
  t.ok(build, 'a stage named build');
  t.ok(df.stages.length >= 2 && rt !== build, 'multi-stage: the runtime stage is not the build stage');
  for (const s of df.stages) {
    const m = /^node:(\d+)-slim$/.exec(s.from);
    t.ok(m !== null && Number(m[1]) >= 22 && Number(m[1]) % 2 === 0, `${s.name ?? 'runtime'} stage on a Node LTS slim image (${s.from})`);
  }
  // Build: dev dependencies and the compiler; runtime: production dependencies only, nothing built.
  t.same(npmCi(build)?.filter((w) => w.startsWith('--omit')), [], 'the build stage installs dev dependencies');
  t.ok(instructions(build, 'RUN').some((i) => /npm run build\b/.test(i.args)), 'the build stage runs npm run build');
  t.ok(npmCi(rt)?.includes('--omit=dev'), 'the runtime stage installs with --omit=dev');
  t.notOk(instructions(rt, 'RUN').some((i) => /npm run build|tsc\b/.test(i.args)), 'nothing is compiled in the runtime stage');
  const fromBuild = instructions(rt, 'COPY').map((i) => copyArgs(i.args)).filter((c) => c.from !== null);
  t.same(fromBuild.map((c) => [c.from, c.sources, c.dest]), [['build', [posix.join(workdir(build), 'dist/src')], './dist/src']],
    'only dist/src comes from the build stage');
  t.ok(instructions(rt, 'ENV').some((i) => /^NODE_ENV[= ]production$/.test(i.args)), 'NODE_ENV=production');

  const user = last(rt, 'USER')?.args ?? '';
  t.match(user, /^[1-9]\d*(:\d+)?$/, 'USER is numeric and not root, so runAsNonRoot can verify it');

  // Every COPY source of the context exists and is not excluded by .dockerignore.
  const ignored = (await readFile(repoPath('.dockerignore'), 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const c of df.stages.flatMap((s) => instructions(s, 'COPY')).map((i) => copyArgs(i.args)).filter((c) => c.from === null)) {
    for (const src of c.sources) {
      t.ok(existsSync(repoPath(src)), `COPY source ${src} exists`);
      t.notOk(ignored.includes(src.split('/')[0]!), `COPY source ${src} is not in .dockerignore`);
    }
  }
  for (const must of ['node_modules', 'dist', '.git']) t.ok(ignored.includes(must), `.dockerignore excludes ${must}`);

  // The config the CMD serves is baked in, valid, and its ports are the EXPOSEd ones.
  const cmd = command(rt);
  t.same(cmd.slice(0, 2), ['node', 'dist/src/main.js'], 'ENTRYPOINT runs the compiled CLI');
  t.equal(cmd[2], 'serve');
  const configPath = configArg(cmd);
  t.equal(configPath, '/etc/portcullis/gateway.yaml');
  const source = copiedFrom(df, configPath);
  t.equal(source, repoPath('config/docker/gateway.yaml'), 'the container config is COPYed to the --config path');
  const config = await readYaml(source!);
  const exposed = new Set(instructions(rt, 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map(Number));
  t.same([...exposed].sort(), [8080, 8081, 8443, 9090], 'EXPOSE 8080 8443 8081 9090');
  for (const [name, l] of listenerPorts(config)) {
    if (l.host === '127.0.0.1') continue; // the demo upstream stays inside the container
    t.equal(l.host, '0.0.0.0', `listeners.${name} binds 0.0.0.0 (reachable from outside the container)`);
    t.ok(exposed.has(l.port), `listeners.${name} port ${l.port} is EXPOSEd`);
  }
  const check = await portcullisCheck(source!);
  t.equal(check.code, 0, `portcullis check config/docker/gateway.yaml: ${check.output}`);

  // HEALTHCHECK: node itself (no curl/wget in slim images) on the admin listener's /healthz.
  const hc = healthcheck(rt);
  t.same(hc.slice(0, 2), ['node', '-e'], 'HEALTHCHECK runs node -e');
  t.notMatch(hc.join(' '), /\b(curl|wget)\b/);
  const url = /'(http:\/\/[^']+)'/.exec(hc[2] ?? '')?.[1];
  const admin = listenerPorts(config).get('admin');
  t.equal(url, `http://127.0.0.1:${admin?.port}/healthz`, 'HEALTHCHECK asks /healthz on the admin port of the baked-in config');
});

/** Every file under dir with its size and mtime, to see whether a run wrote anything. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = join(e.parentPath, e.name);
    const s = await stat(p);
    out.set(p, `${s.size}:${s.mtimeMs}`);
  }
  return out;
}

/** The runtime stage's COPY instructions, into root (the container's /). */
async function replayCopies(df: Dockerfile, root: string): Promise<void> {
  const rt = runtimeStage(df);
  const buildDir = workdir(buildStage(df));
  for (const c of instructions(rt, 'COPY').map((i) => copyArgs(i.args))) {
    const dest = join(root, posix.resolve(workdir(rt), c.dest));
    for (const src of c.sources) {
      // --from=build: the build stage compiled this checkout, whose output is here (npm run build).
      const from = c.from === 'build' ? repoPath(posix.relative(buildDir, src)) : repoPath(src);
      const into = c.dest.endsWith('/') ? join(dest, posix.basename(src)) : dest;
      await mkdir(dirname(into), { recursive: true });
      await cp(from, into, { recursive: true });
    }
  }
}

interface Served {
  readonly logs: Json[];
  readonly exited: Promise<number | null>;
  readonly exitCode: () => number | null;
  readonly stderr: () => string;
  port(listener: string): number;
}

function serve(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Served & { kill(signal: NodeJS.Signals): void } {
  const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Json[] = [];
  let buf = '';
  child.stdout.on('data', (c: Buffer) => {
    buf += c.toString('utf8');
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith('{')) logs.push(JSON.parse(line) as Json);
    }
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    logs, exited,
    exitCode: () => child.exitCode,
    stderr: () => stderr,
    port(listener) {
      const l = logs.find((x) => x['msg'] === 'listening' && x['listener'] === listener);
      if (l === undefined) throw new Error(`${listener} not listening; stderr: ${stderr}`);
      return l['port'] as number;
    },
    kill: (signal) => { if (child.exitCode === null) child.kill(signal); },
  };
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

void t.test('the runtime stage, replayed: clean production install, ENTRYPOINT + CMD answer /healthz', { timeout: 300_000 }, async (t) => {
  const df = await readDockerfile();
  const rt = runtimeStage(df);
  t.ok(existsSync(repoPath('dist/src/main.js')), 'the package is built (npm run build)');
  const root = await mkdtemp(join(tmpdir(), 'portcullis-image-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await replayCopies(df, root);
  const app = join(root, workdir(rt));

  // The same `npm ci` line as the image; --prefer-offline only lets npm use its cache without asking.
  const ci = npmCi(rt)!;
  await run('npm', [...ci.slice(1), '--prefer-offline'], { cwd: app, timeout: 240_000, env: { ...process.env, NODE_ENV: 'production' } });
  t.ok(existsSync(join(app, 'node_modules/yaml')), 'production dependencies installed');
  t.notOk(existsSync(join(app, 'node_modules/typescript')) || existsSync(join(app, 'node_modules/tap')), 'no dev dependencies');

  // The baked-in config, on loopback with ports the OS picks (read back from the `listening` lines).
  const cmd = command(rt);
  const configPath = join(root, configArg(cmd));
  const config = await readYaml(configPath);
  for (const l of Object.values(config['listeners'] as Record<string, Json>)) {
    l['host'] = '127.0.0.1';
    l['port'] = 0;
  }
  // The routes point at the demo listener's fixed port: give it a free one and follow it there.
  const demoPort = await freePort();
  (config['listeners'] as Record<string, Json>)['demo']!['port'] = demoPort;
  for (const r of config['routes'] as Json[]) r['upstream'] = String(r['upstream']).replace(/:\d+$/, `:${demoPort}`);
  await writeFile(configPath, stringify(config));

  // The image's environment only: ENV lines, and a PATH. (Not this test's NODE_OPTIONS loaders.)
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] };
  for (const e of instructions(rt, 'ENV')) {
    const [k, v] = e.args.split(/[= ]/, 2);
    env[k!] = v;
  }
  const before = await snapshot(root);
  // ENTRYPOINT + CMD as written, but the node on this machine and the temp copy of the config.
  const argv = cmd.map((a, i) => (i === 0 && a === 'node' ? process.execPath : cmd[i - 1] === '--config' ? configPath : a));
  const gp = serve(argv, app, env);
  t.teardown(() => gp.kill('SIGKILL'));
  await until('the listeners', () => {
    if (gp.exitCode() !== null) throw new Error(`exited ${gp.exitCode()}: ${gp.stderr()} ${JSON.stringify(gp.logs)}`);
    return ['http', 'admin', 'demo'].every((l) => gp.logs.some((x) => x['msg'] === 'listening' && x['listener'] === l)) ? true : undefined;
  });
  const admin = gp.port('admin');
  const http = gp.port('http');

  const health = await request(`http://127.0.0.1:${admin}/healthz`);
  t.equal(health.statusCode, 200, 'GET /healthz → 200');
  t.same(await health.body.json(), { status: 'ok' });

  // The demo routes work from the clean install: anonymous, refused, and with a minted dev token.
  const pub = await request(`http://127.0.0.1:${http}/public/x`);
  t.equal(pub.statusCode, 200, 'public route → demo echo upstream');
  t.match(await pub.body.json(), { upstream: 'portcullis-demo', url: '/public/x' });
  const anon = await request(`http://127.0.0.1:${http}/api/x`);
  await anon.body.dump();
  t.equal(anon.statusCode, 401, 'a route without auth: none needs a token');
  const { stdout: token } = await run(process.execPath, ['dist/src/main.js', 'token', '--sub', 'alice'], { cwd: app, env });
  const authed = await request(`http://127.0.0.1:${http}/api/x`, { headers: { authorization: `Bearer ${token.trim()}` } });
  t.equal(authed.statusCode, 200, 'with a dev token from the installed package');
  t.match(await authed.body.json(), { headers: { 'x-user-id': 'alice' } });

  // The HEALTHCHECK command, pointed at this admin port (its default is checked statically above), and at nothing.
  const [node, ...hcArgs] = healthcheck(rt);
  t.equal(node, 'node');
  const probe = (url: string) => run(process.execPath, hcArgs, { cwd: app, env: { ...env, PORTCULLIS_HEALTHCHECK_URL: url }, timeout: 10_000 }).then(() => 0, (e: { code?: number }) => e.code ?? -1);
  t.equal(await probe(`http://127.0.0.1:${admin}/healthz`), 0, 'HEALTHCHECK passes against the running gateway');
  t.equal(await probe(`http://127.0.0.1:${admin}/nope`), 1, 'HEALTHCHECK fails on a non-200');
  t.equal(await probe(`http://127.0.0.1:${await freePort()}/healthz`), 1, 'HEALTHCHECK fails when nothing listens');

  gp.kill('SIGTERM');
  t.equal(await gp.exited, 0, 'SIGTERM: clean exit 0');
  t.ok(gp.logs.some((l) => l['msg'] === 'stopped'), 'logged "stopped"');
  t.same(await snapshot(root), before, 'nothing was written under / (read-only root filesystem)');
});
