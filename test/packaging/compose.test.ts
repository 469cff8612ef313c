/**
 * docker-compose.yml against the files it mounts: the services it names exist, every mounted file
 * exists, the published ports and healthcheck URLs are the listeners of the config each service
 * serves, the routes' upstreams, Redis URL and JWKS URI name compose services on the right ports,
 * and NGINX's command turns the shipped nginx.conf into one that asks the portcullis service.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { BlockList } from 'node:net';
import { posix } from 'node:path';
import t from 'tap';
import { loadConfigFile } from '../../src/config/load.js';
import { configArg, execForm, get, last, listenerPorts, portcullisCheck, readDockerfile, readYaml, repoPath, type Json } from './files.js';

type Service = Json & { volumes?: string[]; ports?: string[]; command?: string[] | string; environment?: Record<string, string> };

async function compose(): Promise<Record<string, Service>> {
  return (await readYaml(repoPath('docker-compose.yml')))['services'] as Record<string, Service>;
}

/** Bind mounts: container path → repository file. */
function mounts(s: Service): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of s.volumes ?? []) {
    const [src, dest] = v.split(':');
    if (src!.startsWith('./')) out.set(dest!, repoPath(src!));
  }
  return out;
}

/** The gateway config a Portcullis-image service serves: its command's --config (else the image CMD's), mounted. */
async function servedConfig(s: Service): Promise<{ file: string; config: Json }> {
  const rt = (await readDockerfile()).stages.at(-1)!;
  const args = Array.isArray(s.command) ? s.command : execForm(last(rt, 'CMD')!.args);
  const file = mounts(s).get(configArg(args));
  if (file === undefined) throw new Error(`${configArg(args)} is not mounted`);
  return { file, config: await readYaml(file) };
}

/** The image HEALTHCHECK's default URL, unless the service's environment overrides it. */
async function healthUrl(s: Service): Promise<URL> {
  const hc = last((await readDockerfile()).stages.at(-1)!, 'HEALTHCHECK')!.args;
  return new URL(s.environment?.['PORTCULLIS_HEALTHCHECK_URL'] ?? /'(http:\/\/[^']+)'/.exec(hc)![1]!);
}

void t.test('services, files and images', async (t) => {
  const services = await compose();
  t.same(Object.keys(services).sort(), ['jwks', 'nginx', 'portcullis', 'redis', 'upstream']);
  for (const [name, s] of Object.entries(services)) {
    for (const [dest, file] of mounts(s)) t.ok(existsSync(file), `${name}: mounted ${file} → ${dest} exists`);
  }
  for (const name of ['portcullis', 'upstream']) {
    const s = services[name]!;
    t.equal(s['build'], '.', `${name} is built from the Dockerfile`);
    t.equal(s['read_only'], true, `${name}: read-only root filesystem`);
    t.same(s['cap_drop'], ['ALL'], `${name}: no capabilities`);
    const { file } = await servedConfig(s);
    const check = await portcullisCheck(file);
    t.equal(check.code, 0, `portcullis check ${file}: ${check.output}`);
  }
  t.equal(services['portcullis']!['image'], services['upstream']!['image'], 'one image for both');
});

void t.test('published ports and healthchecks are the served config\'s listeners', async (t) => {
  const services = await compose();
  for (const name of ['portcullis', 'upstream']) {
    const s = services[name]!;
    const listeners = listenerPorts((await servedConfig(s)).config);
    const ports = new Set([...listeners.values()].map((l) => l.port));
    for (const p of s.ports ?? []) {
      const parts = p.split(':');
      t.ok(ports.has(Number(parts.at(-1))), `${name}: published ${p} is a listener port`);
      if (Number(parts.at(-1)) === listeners.get('admin')?.port) t.equal(parts[0], '127.0.0.1', `${name}: admin published on loopback only`);
    }
    const url = await healthUrl(s);
    t.equal(Number(url.port), listeners.get('admin')?.port, `${name}: healthcheck asks the admin listener`);
    t.equal(url.hostname, '127.0.0.1');
    t.ok(url.pathname === '/healthz' || url.pathname === '/readyz', `${name}: healthcheck path ${url.pathname}`);
  }
  t.equal((await healthUrl(services['portcullis']!)).pathname, '/readyz', 'portcullis is healthy once ready (JWKS, Redis)');
  // Every service_healthy dependency has a healthcheck (its own, or the image's).
  for (const [name, s] of Object.entries(services)) {
    for (const [dep, cond] of Object.entries((s['depends_on'] ?? {}) as Record<string, Json>)) {
      t.ok(services[dep], `${name} depends on an existing service ${dep}`);
      if (cond['condition'] === 'service_healthy') {
        t.ok(get(services[dep], 'healthcheck.test') !== undefined || services[dep]!['build'] === '.', `${dep} has a healthcheck`);
      }
    }
  }
  t.same(Object.keys(services['portcullis']!['depends_on'] as Json).sort(), ['jwks', 'redis', 'upstream']);
  t.same(Object.keys(services['nginx']!['depends_on'] as Json).sort(), ['portcullis', 'upstream']);
});

void t.test('the gateway config names compose services on their real ports', async (t) => {
  const services = await compose();
  const { file } = await servedConfig(services['portcullis']!);
  const config = await loadConfigFile(file, {}); // ${…:-default}s as compose leaves them
  const upstreamListeners = listenerPorts((await servedConfig(services['upstream']!)).config);
  for (const r of config.routes) {
    const u = new URL(typeof r.upstream === 'string' ? r.upstream : r.upstream!.targets[0]!);
    t.equal(u.hostname, 'upstream', `route ${r.name} → the upstream service`);
    t.equal(Number(u.port), upstreamListeners.get('demo')?.port, `route ${r.name} → its demo listener port`);
  }
  const redis = new URL(config.redis!.url!);
  t.equal(redis.hostname, 'redis');
  t.equal(redis.port, '6379', 'the redis image listens on 6379');
  const provider = config.auth!.providers[0]!;
  const jwks = new URL(provider.jwksUri!);
  t.equal(jwks.hostname, 'jwks');
  const served = mounts(services['jwks']!).get(posix.join('/usr/share/nginx/html', jwks.pathname));
  t.equal(served, repoPath('config/dev-jwks.json'), 'the jwks service serves config/dev-jwks.json at the jwksUri path');
  const doc = JSON.parse(await readFile(served!, 'utf8')) as { keys: unknown[] };
  t.ok(doc.keys.length > 0, 'a JWKS with keys');
  t.equal(provider.issuer, 'portcullis-dev', '`portcullis token` mints tokens for this issuer by default');
});

void t.test('nginx: the shipped nginx.conf, pointed at the compose services', async (t) => {
  const services = await compose();
  const nginx = services['nginx']!;
  const script = (nginx.command as string[]).join(' ');
  const shipped = mounts(nginx);
  t.ok([...shipped.values()].includes(repoPath('config/nginx/nginx.conf')), 'mounts the shipped config/nginx/nginx.conf');
  // Replay the sed expressions of the command on the shipped file.
  let conf = await readFile(repoPath('config/nginx/nginx.conf'), 'utf8');
  const seds = [...script.matchAll(/-e '(s\/(.+?)\/(.*?)\/)'/g)];
  t.equal(seds.length, 3, 'three addresses replaced: listen, auth, backend');
  for (const m of seds) {
    const from = m[2]!.replace(/\\\./g, '.');
    t.equal(conf.split(from).length, 2, `${from} occurs exactly once in the shipped nginx.conf`);
    conf = conf.replace(from, m[3]!);
  }
  const gw = listenerPorts((await servedConfig(services['portcullis']!)).config);
  const up = listenerPorts((await servedConfig(services['upstream']!)).config);
  const server = (upstream: string) => new RegExp(`upstream ${upstream} \\{\\s*server ([^:;\\s]+):(\\d+);`).exec(conf);
  const auth = server('portcullis_auth');
  t.equal(auth?.[1], 'portcullis', 'auth_request goes to the portcullis service');
  t.equal(Number(auth?.[2]), gw.get('auth')?.port, '… on its auth listener port');
  const backend = server('backend');
  t.equal(backend?.[1], 'upstream', 'allowed requests go to the upstream service');
  t.equal(Number(backend?.[2]), up.get('demo')?.port, '… on its demo listener port');
  const listen = /\blisten (\d+);/.exec(conf)?.[1];
  t.same(nginx.ports, [`${listen}:${listen}`], 'nginx publishes the port it listens on');
  t.notMatch(conf, /server 127\.0\.0\.1:/, 'no loopback upstream left');

  // Portcullis believes NGINX's X-Forwarded-* only from NGINX's fixed address, inside the network.
  const address = get(nginx, 'networks.demo.ipv4_address') as string;
  const config = await loadConfigFile((await servedConfig(services['portcullis']!)).file, {});
  t.ok(config.server.trustedProxies.includes(`${address}/32`), `trustedProxies holds nginx's ${address}`);
  t.equal(config.server.trustedProxies.length, 1, 'and nothing else');
  const subnet = get(await readYaml(repoPath('docker-compose.yml')), 'networks.demo.ipam.config') as { subnet: string }[];
  const [net, bits] = subnet[0]!.subnet.split('/');
  const block = new BlockList();
  block.addSubnet(net!, Number(bits));
  t.ok(block.check(address), `${address} is inside ${subnet[0]!.subnet}`);
});
