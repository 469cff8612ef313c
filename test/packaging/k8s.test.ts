/**
 * config/k8s/: every file parses, kustomization.yaml lists them all, and names and ports agree
 * across objects and with the gateway.yaml the ConfigMap holds: probes on the admin listener,
 * container ports = listener ports, Service and NetworkPolicy ports resolve to them, the TLS Secret
 * is mounted where listeners.https reads it, the ingress auth-url reaches the auth listener, the
 * RBAC names the objects that exist. The ConfigMap's gateway.yaml passes `portcullis check`.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import t from 'tap';
import { parse, stringify } from 'yaml';
import { serverPki, tempDir } from '../helpers/certs.js';
import { configArg, execForm, get, last, listenerPorts, portcullisCheck, readDockerfile, readYaml, readYamlDocs, repoPath, type Json } from './files.js';

const DIR = repoPath('config/k8s');

interface Obj extends Json { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec?: Json }
interface Port { name?: string; containerPort: number }
interface Container extends Json { ports: Port[]; args?: string[]; command?: string[] }

async function load(): Promise<{ objects: Obj[]; files: string[] }> {
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
  const objects: Obj[] = [];
  for (const f of files) objects.push(...(await readYamlDocs(join(DIR, f))) as Obj[]);
  return { objects, files };
}

const find = (objects: Obj[], kind: string, name?: string): Obj[] =>
  objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const one = (objects: Obj[], kind: string, name?: string): Obj => {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name ?? ''}, found ${found.length}`);
  return found[0]!;
};

async function gateway(objects: Obj[]): Promise<{ text: string; config: Json; deploy: Obj; container: Container }> {
  const deploy = one(objects, 'Deployment', 'portcullis');
  const container = (get(deploy, 'spec.template.spec.containers') as Container[])[0]!;
  const configName = (get(deploy, 'spec.template.spec.volumes') as Json[]).find((v) => v['configMap'])!['configMap'] as Json;
  const text = (get(one(objects, 'ConfigMap', configName['name'] as string), 'data') as Record<string, string>)['gateway.yaml']!;
  return { text, config: parse(text) as Json, deploy, container };
}

/** A Service/NetworkPolicy port reference (name or number) → the container port number. */
function resolvePort(container: Container, ref: unknown): number | undefined {
  return typeof ref === 'number' ? container.ports.find((p) => p.containerPort === ref)?.containerPort : container.ports.find((p) => p.name === ref)?.containerPort;
}

void t.test('every file parses; kustomization lists them; names are unique', async (t) => {
  const { objects, files } = await load();
  const kustomization = await readYaml(join(DIR, 'kustomization.yaml'));
  t.same([...(kustomization['resources'] as string[])].sort(), files, 'kustomization.yaml lists every manifest');
  const keys = new Set<string>();
  for (const o of objects) {
    t.ok(o.apiVersion && o.kind && o.metadata?.name, `${o.kind}/${o.metadata?.name} has apiVersion, kind, name`);
    const key = `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    t.notOk(keys.has(key), `${key} defined once`);
    keys.add(key);
  }
  for (const kind of ['Namespace', 'ServiceAccount', 'ConfigMap', 'Deployment', 'Service', 'Certificate', 'NetworkPolicy', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'Role', 'RoleBinding', 'Ingress']) {
    t.ok(find(objects, kind).length > 0, `has a ${kind}`);
  }
  t.equal(one(objects, 'HorizontalPodAutoscaler').apiVersion, 'autoscaling/v2');
});

void t.test('the ConfigMap\'s gateway.yaml passes portcullis check', async (t) => {
  const { objects } = await load();
  const { config } = await gateway(objects);
  // Its certificate files exist only in the pod: point them at a test pair.
  const dir = await tempDir(t);
  const { server } = await serverPki(dir);
  const https = (config['listeners'] as Record<string, Json>)['https']!;
  https['cert'] = server.cert;
  https['key'] = server.key;
  const file = join(dir, 'gateway.yaml');
  await writeFile(file, stringify(config));
  const check = await portcullisCheck(file);
  t.equal(check.code, 0, check.output);
});

void t.test('Deployment: image contract, probes, ports, security, volumes', async (t) => {
  const { objects } = await load();
  const { config, deploy, container } = await gateway(objects);
  const pod = get(deploy, 'spec.template.spec') as Json;
  const listeners = listenerPorts(config);
  t.equal(get(deploy, 'spec.replicas'), 2);
  t.same(container.ports.map((p) => p.containerPort).sort(), [...listeners.values()].map((l) => l.port).sort(), 'container ports = listener ports');
  for (const [name, l] of listeners) {
    t.equal(l.host, '0.0.0.0', `listeners.${name} binds 0.0.0.0 (pod IP)`);
    t.equal(resolvePort(container, name), l.port, `container port named ${name} = listeners.${name}.port`);
  }
  const readiness = get(container, 'readinessProbe.httpGet') as Json;
  const liveness = get(container, 'livenessProbe.httpGet') as Json;
  t.equal(readiness['path'], '/readyz');
  t.equal(liveness['path'], '/healthz');
  t.equal(resolvePort(container, readiness['port']), listeners.get('admin')?.port, 'readiness on the admin listener');
  t.equal(resolvePort(container, liveness['port']), listeners.get('admin')?.port, 'liveness on the admin listener');

  // The image's ENTRYPOINT stays; args are its CMD; the config is where the ConfigMap is mounted.
  const rt = (await readDockerfile()).stages.at(-1)!;
  t.notOk(container.command, 'no command: the image ENTRYPOINT runs');
  t.same(container.args, execForm(last(rt, 'CMD')!.args), 'args = the image CMD');
  const mountsByVolume = new Map((container['volumeMounts'] as Json[]).map((m) => [m['name'] as string, m]));
  const volumes = pod['volumes'] as Json[];
  const configVolume = volumes.find((v) => v['configMap'])!;
  t.equal(posix.join(mountsByVolume.get(configVolume['name'] as string)!['mountPath'] as string, 'gateway.yaml'), configArg(container.args!), 'the ConfigMap\'s gateway.yaml is the --config file');
  const tlsVolume = volumes.find((v) => v['secret'])!;
  const tlsDir = mountsByVolume.get(tlsVolume['name'] as string)!['mountPath'] as string;
  const https = (config['listeners'] as Record<string, Json>)['https']!;
  t.equal(posix.dirname(https['cert'] as string), tlsDir, 'listeners.https.cert is in the mounted Secret');
  t.equal(posix.dirname(https['key'] as string), tlsDir, 'listeners.https.key is in the mounted Secret');
  for (const m of mountsByVolume.values()) t.notOk(m['subPath'], `${m['name']}: no subPath (updates must reach the pod)`);
  const certificate = one(objects, 'Certificate');
  t.equal(get(certificate, 'spec.secretName'), get(tlsVolume, 'secret.secretName'), 'the mounted Secret is the Certificate\'s');

  // Security.
  const user = last(rt, 'USER')!.args.split(':')[0];
  t.equal(get(pod, 'securityContext.runAsNonRoot'), true);
  t.equal(String(get(pod, 'securityContext.runAsUser')), user, 'runAsUser = the image USER');
  t.equal(get(pod, 'securityContext.seccompProfile.type'), 'RuntimeDefault');
  t.equal(get(container, 'securityContext.readOnlyRootFilesystem'), true);
  t.equal(get(container, 'securityContext.allowPrivilegeEscalation'), false);
  t.same(get(container, 'securityContext.capabilities.drop'), ['ALL']);
  t.ok(get(container, 'resources.requests.cpu') && get(container, 'resources.requests.memory') && get(container, 'resources.limits.memory'), 'resources set');
  const sa = one(objects, 'ServiceAccount', pod['serviceAccountName'] as string);
  t.equal(sa['automountServiceAccountToken'], false, 'the ServiceAccount mounts no token');
  t.equal(pod['automountServiceAccountToken'], false);

  // The grace period covers the preStop pause and the drain.
  const preStop = (get(container, 'lifecycle.preStop.exec.command') as string[] | undefined) ?? [];
  const pauseSec = preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
  const graceMs = Number(get(config, 'server.shutdownGraceMs') ?? 10_000);
  t.ok(Number(pod['terminationGracePeriodSeconds']) * 1000 > pauseSec * 1000 + graceMs, 'terminationGracePeriodSeconds > preStop + shutdownGraceMs');
});

void t.test('Services, Ingress, NetworkPolicy, PDB, HPA point at the pods and their ports', async (t) => {
  const { objects } = await load();
  const { config, deploy, container } = await gateway(objects);
  const labels = get(deploy, 'spec.template.metadata.labels') as Record<string, string>;
  const listeners = listenerPorts(config);
  const selects = (selector: Record<string, string> | undefined) => selector !== undefined && Object.entries(selector).every(([k, v]) => labels[k] === v);
  const services = find(objects, 'Service');
  for (const s of services) {
    t.ok(selects(get(s, 'spec.selector') as Record<string, string>), `Service ${s.metadata.name} selects the pods`);
    for (const p of get(s, 'spec.ports') as Json[]) t.ok(resolvePort(container, p['targetPort']) !== undefined, `Service ${s.metadata.name} port ${p['name']} → a container port`);
  }
  const servicePort = (svc: Obj, listener: string) => (get(svc, 'spec.ports') as Json[]).find((p) => resolvePort(container, p['targetPort']) === listeners.get(listener)?.port);
  const auth = one(objects, 'Service', 'portcullis');
  t.same((get(auth, 'spec.ports') as Json[]).map((p) => p['name']), ['auth'], 'Service portcullis exposes only the auth listener');
  t.ok(servicePort(one(objects, 'Service', 'portcullis-edge'), 'https'), 'Service portcullis-edge reaches the https listener');
  t.notOk(services.some((s) => servicePort(s, 'admin')), 'no Service exposes the admin listener');

  // ingress.yaml's auth-url reaches the auth listener's /nginx through the Service.
  const ingress = one(objects, 'Ingress', 'orders');
  const url = new URL(ingress.metadata.annotations!['nginx.ingress.kubernetes.io/auth-url']!);
  t.equal(url.hostname, `${auth.metadata.name}.${auth.metadata.namespace}.svc.cluster.local`, 'auth-url names the Service');
  t.equal(Number(url.port), servicePort(auth, 'auth')?.['port'], 'auth-url port → the auth listener');
  t.equal(url.pathname, '/nginx');
  const host = (get(ingress, 'spec.rules') as Json[])[0]!['host'] as string;
  const route = (config['routes'] as Json[]).find((r) => (get(r, 'match.hosts') as string[] | undefined)?.includes(host));
  t.ok(route, 'a route for the Ingress host');
  const passed = ingress.metadata.annotations!['nginx.ingress.kubernetes.io/auth-response-headers']!.split(',');
  t.same(passed, Object.keys((route!['identityHeaders'] ?? {}) as Json), 'auth-response-headers = the route\'s identityHeaders');
  t.ok((get(one(objects, 'Certificate'), 'spec.dnsNames') as string[]).includes('portcullis-edge.portcullis.svc'), 'the certificate names the edge Service');

  // NetworkPolicy: the ingress controller to auth and https, Prometheus to admin, nothing else.
  const np = one(objects, 'NetworkPolicy');
  t.ok(selects(get(np, 'spec.podSelector.matchLabels') as Record<string, string>), 'NetworkPolicy selects the pods');
  const admitted = new Map<string, number[]>();
  for (const rule of get(np, 'spec.ingress') as Json[]) {
    const from = (rule['from'] as Json[]).map((f) => (get(f, 'namespaceSelector.matchLabels') as Record<string, string>)['kubernetes.io/metadata.name']);
    const ports = (rule['ports'] as Json[]).map((p) => resolvePort(container, p['port'])!);
    for (const ns of from) admitted.set(String(ns), ports.sort());
  }
  t.same(Object.fromEntries(admitted), {
    'ingress-nginx': [listeners.get('auth')!.port, listeners.get('https')!.port].sort(),
    monitoring: [listeners.get('admin')!.port],
  });

  const pdb = one(objects, 'PodDisruptionBudget');
  t.ok(selects(get(pdb, 'spec.selector.matchLabels') as Record<string, string>), 'PDB selects the pods');
  const hpa = one(objects, 'HorizontalPodAutoscaler');
  t.same(get(hpa, 'spec.scaleTargetRef'), { apiVersion: 'apps/v1', kind: 'Deployment', name: deploy.metadata.name });
  t.ok(Number(get(hpa, 'spec.minReplicas')) > Number(get(pdb, 'spec.maxUnavailable')), 'a disruption never takes every replica');
});

void t.test('RBAC: the platform group may edit the ConfigMap and the Ingresses that point at Portcullis', async (t) => {
  const { objects } = await load();
  const { deploy } = await gateway(objects);
  const configMap = ((get(deploy, 'spec.template.spec.volumes') as Json[]).find((v) => v['configMap'])!['configMap'] as Json)['name'];
  const protectedIngresses = find(objects, 'Ingress').filter((i) => i.metadata.annotations?.['nginx.ingress.kubernetes.io/auth-url']?.includes('portcullis'));
  const granted = (kind: string, name: string, ns: string) => find(objects, 'Role').filter((r) => r.metadata.namespace === ns).some((r) =>
    (r['rules'] as Json[]).some((rule) => (rule['resources'] as string[]).includes(kind) && (rule['resourceNames'] as string[]).includes(name) && (rule['verbs'] as string[]).includes('patch')));
  t.ok(granted('configmaps', String(configMap), 'portcullis'), `a Role grants patch on configmap ${configMap}`);
  t.ok(protectedIngresses.length > 0);
  for (const i of protectedIngresses) t.ok(granted('ingresses', i.metadata.name, i.metadata.namespace ?? 'default'), `a Role grants patch on ingress ${i.metadata.name}`);
  for (const r of find(objects, 'Role')) {
    for (const rule of r['rules'] as Json[]) t.ok((rule['resourceNames'] as string[] | undefined)?.length, `${r.metadata.name}: every rule is limited to named objects`);
  }
  for (const b of find(objects, 'RoleBinding')) {
    const role = find(objects, 'Role', get(b, 'roleRef.name') as string).find((r) => r.metadata.namespace === b.metadata.namespace);
    t.ok(role, `RoleBinding ${b.metadata.name} → a Role in its namespace`);
    t.same((b['subjects'] as Json[]).map((s) => [s['kind'], s['name']]), [['Group', 'platform-team']], `RoleBinding ${b.metadata.name}: only the platform group`);
  }
});
