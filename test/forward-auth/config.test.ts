/**
 * `listeners.auth` in the config, and the shipped configs kept in step with each other: every
 * identity header a shipped Portcullis route sets is one the shipped NGINX, Traefik, Envoy and
 * Ingress configs pass to the backend, and the Kubernetes ConfigMap is a valid Portcullis config.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { ConfigError } from '../../src/config/errors.js';
import { DEFAULT_STRIP_IDENTITY_HEADERS } from '../../src/config/schema.js';
import { parseConfigText } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/validate.js';
import { NGINX_READ_HEADERS } from '../../src/forward-auth/nginx.js';
import { shippedDoc } from './fixture.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const read = (path: string) => readFile(resolve(ROOT, path), 'utf8');
const problems = (doc: unknown): readonly string[] => {
  try {
    validateConfig(doc);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};
const route = { name: 'r', match: {}, auth: 'none', upstream: 'http://127.0.0.1:1' };

void t.test('listeners.auth: host, port, cacheMaxAgeSec (default 0) and trustOriginalUrl (unset by default)', async (t) => {
  const cfg = validateConfig({ listeners: { auth: { host: '127.0.0.1', port: 8081 } }, routes: [route] });
  t.same(cfg.listeners.auth, { host: '127.0.0.1', port: 8081, cacheMaxAgeSec: 0 });
  t.same(problems({ listeners: { auth: { host: '127.0.0.1', port: 0, trustOriginalUrl: 'yes' } }, routes: [] }), [
    'listeners.auth.trustOriginalUrl: must be a boolean (true or false)',
  ]);
  t.same(problems({ listeners: { auth: { host: '127.0.0.1', port: 0, cacheMaxAgeSec: 3601 } }, routes: [] }), [
    'listeners.auth.cacheMaxAgeSec: must be between 0 and 3600',
  ]);
  t.same(problems({ listeners: { auth: { host: '127.0.0.1', port: 0, paths: ['/nginx'] } }, routes: [] }), ['listeners.auth.paths: unknown key']);
  t.same(problems({ listeners: { auth: { host: '0.0.0.0', port: 8081 }, http: { host: '127.0.0.1', port: 8081 } }, routes: [] }), [
    'listeners.http.port: 127.0.0.1:8081 clashes with listeners.auth (0.0.0.0:8081)',
  ]);
});

/** Identity header names of the shipped config/nginx/portcullis.yaml routes, as configured. */
async function identityNames(): Promise<string[]> {
  const doc = await shippedDoc();
  return [...new Set(doc.routes.flatMap((r) => Object.keys(r['identityHeaders'] as Record<string, string>)))].sort();
}

void t.test('config/nginx/nginx.conf passes on every identity header of config/nginx/portcullis.yaml', async (t) => {
  const conf = await read('config/nginx/nginx.conf');
  const names = await identityNames();
  t.same(names, ['X-User-Email', 'X-User-Id', 'X-User-Roles']);
  for (const name of names) {
    const v = name.toLowerCase().replace(/-/g, '_');
    t.match(conf, new RegExp(`auth_request_set \\$auth_${v.slice(2)}\\s+\\$upstream_http_${v};`), `${name}: auth_request_set`);
    t.match(conf, new RegExp(`proxy_set_header ${name}\\s+\\$auth_${v.slice(2)};`), `${name}: proxy_set_header`);
  }
  t.match(conf, /proxy_pass http:\/\/portcullis_auth\/nginx;/);
  t.match(conf, /proxy_pass_request_body off;/);
  const directives = conf.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
  t.notMatch(directives, /proxy_ignore_headers|proxy_cache_valid/, 'the auth cache must follow Portcullis\'s Cache-Control');
});

void t.test('config/nginx/nginx.conf: the auth location sets (or clears) every header /nginx reads', async (t) => {
  // issue 22 §1: an auth subrequest carries every client header; one the config leaves alone is the client's.
  const conf = (await read('config/nginx/nginx.conf')).split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
  const auth = /location = \/_portcullis \{([^}]*)\}/.exec(conf)?.[1] ?? '';
  const set = new Set([...auth.matchAll(/proxy_set_header\s+(\S+)\s/g)].map((m) => m[1]!.toLowerCase()));
  for (const name of NGINX_READ_HEADERS) t.ok(set.has(name), `${name}: proxy_set_header in location = /_portcullis`);
  t.match(auth, /proxy_set_header X-Original-URL\s+"";/, 'X-Original-URL cleared: listeners.auth.trustOriginalUrl is off in portcullis.yaml');
  const listener = (await shippedDoc()).listeners['auth'] as Record<string, unknown>;
  t.equal(listener['trustOriginalUrl'], false, 'portcullis.yaml: false, since this NGINX never writes X-Original-URL');
});

void t.test('config/nginx/nginx.conf clears every server.stripIdentityHeaders default on the way to the backend', async (t) => {
  const conf = (await read('config/nginx/nginx.conf')).split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
  for (const name of DEFAULT_STRIP_IDENTITY_HEADERS) t.match(conf, new RegExp(`proxy_set_header ${name}\\s+"";`), name);
});

void t.test('config/traefik and config/envoy: the right endpoint, fail closed, the identity headers', async (t) => {
  const names = await identityNames();
  const traefik = parse(await read('config/traefik/dynamic.yaml')) as { http: { middlewares: { portcullis: { forwardAuth: Record<string, unknown> } } } };
  const fa = traefik.http.middlewares.portcullis.forwardAuth;
  t.equal(fa['address'], 'http://127.0.0.1:8081/traefik');
  t.equal(fa['trustForwardHeader'], false);
  t.same([...(fa['authResponseHeaders'] as string[])].sort(), names);
  // The regex is Go's (RE2); this is the same pattern in JavaScript's syntax.
  const regex = new RegExp(String(fa['authResponseHeadersRegex']).replace('(?i)', ''), 'i');
  for (const h of ['X-User-Id', 'X_user_id', 'X.User.Id', 'X-Auth-Request-User']) t.ok(regex.test(h), h);
  for (const h of [...DEFAULT_STRIP_IDENTITY_HEADERS, 'remote_user', 'X.Forwarded.Email']) t.ok(regex.test(h), `${h}: server.stripIdentityHeaders`);
  for (const h of ['X-Users', 'Authorization', 'X-Request-Id', 'X-Forwarded-For', 'X-Forwarded-Host', 'Remote-Addr', 'X-Forwarded-Username']) t.notOk(regex.test(h), h);

  const envoyText = await read('config/envoy/envoy.yaml');
  const envoy = JSON.stringify(parse(envoyText));
  t.match(envoy, /"path_prefix":"\/envoy"/);
  t.match(envoy, /"failure_mode_allow":false/);
  t.match(envoy, /"headers_with_underscores_action":"REJECT_REQUEST"/);
  for (const name of names) t.match(envoy, `{"exact":"${name.toLowerCase()}"}`, `${name}: allowed_upstream_headers`);
});

void t.test('RateLimit fields of an allow: passed to the client where the proxy can, as the endpoints send them', async (t) => {
  // /nginx and /envoy allows carry them (nginx-endpoint, traefik-envoy-endpoint tests); /traefik allows do not.
  const nginx = (await read('config/nginx/nginx.conf')).split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
  t.match(nginx, /auth_request_set \$auth_ratelimit_policy\s+\$upstream_http_ratelimit_policy;/);
  t.match(nginx, /auth_request_set \$auth_ratelimit\s+\$upstream_http_ratelimit;/);
  // Once for the allowed response (location /), once for the denials (@portcullis_denied); `always`: 4xx too.
  t.equal(nginx.match(/add_header RateLimit-Policy \$auth_ratelimit_policy always;/g)?.length, 2);
  t.equal(nginx.match(/add_header RateLimit\s+\$auth_ratelimit always;/g)?.length, 2);

  type Patterns = { patterns: { exact?: string }[] };
  type EnvoyDoc = { static_resources: { listeners: { filter_chains: { filters: { typed_config: {
    http_filters: { name: string; typed_config: { http_service?: { authorization_response: Record<string, Patterns> } } }[];
  } }[] }[] }[] } };
  const envoy = parse(await read('config/envoy/envoy.yaml')) as EnvoyDoc;
  const filters = envoy.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config.http_filters;
  const answer = filters.find((f) => f.name === 'envoy.filters.http.ext_authz')!.typed_config.http_service!.authorization_response;
  const exact = (key: string) => answer[key]!.patterns.map((p) => p.exact).sort();
  t.same(exact('allowed_client_headers_on_success'), ['ratelimit', 'ratelimit-policy']);
  for (const h of ['ratelimit', 'ratelimit-policy', 'retry-after', 'www-authenticate']) t.ok(exact('allowed_client_headers').includes(h), `${h}: on a denial`);

  const traefik = await read('config/traefik/dynamic.yaml');
  t.notMatch(traefik.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n'), /ratelimit/i,
    'Traefik copies allow headers only onto the backend request: RateLimit fields are not listed');
});

void t.test('config/k8s: the ConfigMap is a valid Portcullis config and the Ingress passes its identity headers', async (t) => {
  const docs = parseAllDocuments(await read('config/k8s/portcullis.yaml')).map((d) => d.toJS() as Record<string, unknown>);
  // By kind, not position: the Kubernetes set has its own owner and test (test/packaging/).
  const configMap = docs.find((d) => d['kind'] === 'ConfigMap');
  t.ok(configMap, 'a ConfigMap');
  const text = (configMap!['data'] as Record<string, string>)['gateway.yaml']!;
  const cfg = parseConfigText(text, 'config/k8s/portcullis.yaml#gateway.yaml', {});
  t.same(cfg.listeners.auth, { host: '0.0.0.0', port: 8081, cacheMaxAgeSec: 0, trustOriginalUrl: true }, 'ingress-nginx writes X-Original-URL itself');
  const ingress = parse(await read('config/k8s/ingress.yaml')) as { metadata: { annotations: Record<string, string> } };
  const a = ingress.metadata.annotations;
  t.equal(a['nginx.ingress.kubernetes.io/auth-url'], 'http://portcullis.portcullis.svc.cluster.local:8081/nginx');
  const passed = a['nginx.ingress.kubernetes.io/auth-response-headers']!.split(',').sort();
  t.same(passed, Object.keys(cfg.routes[0]!.identityHeaders).sort());
  t.notOk(Object.keys(a).some((k) => k.endsWith('-snippet')), 'snippet annotations stay commented out: controllers refuse them by default');
});

void t.test('listeners.auth TLS keys (issue 14): the HTTPS listener\'s, with errors that name the key', async (t) => {
  const auth = (extra: Record<string, unknown>) => ({ listeners: { auth: { host: '127.0.0.1', port: 8081, ...extra } }, routes: [route] });
  const cfg = validateConfig(auth({ cert: '/tls/a.crt', key: '/tls/a.key', clientCa: '/tls/ca.crt', requireClientCert: true }));
  t.same(cfg.listeners.auth, { host: '127.0.0.1', port: 8081, cacheMaxAgeSec: 0, cert: '/tls/a.crt', key: '/tls/a.key', clientCa: '/tls/ca.crt', requireClientCert: true });
  t.same(problems(auth({ minVersion: 'TLSv1.3' })), ['listeners.auth.minVersion: needs cert and key: the auth listener speaks TLS only with a certificate']);
  t.same(problems(auth({ cert: '/tls/a.crt' })), ['listeners.auth.key: is required with cert']);
  t.same(problems(auth({ key: '/tls/a.key' })), ['listeners.auth.cert: is required with key']);
  t.same(problems(auth({ clientCa: '/tls/ca.crt' })), ['listeners.auth.clientCa: needs cert and key: the auth listener speaks TLS only with a certificate']);
  t.same(problems(auth({ cert: '/a', key: '/b', requireClientCert: true })), ['listeners.auth.requireClientCert: needs clientCa: client certificates are verified against it']);
  t.same(problems(auth({ cert: '/a', key: '/b', minVersion: 'TLSv1.1' })), ['listeners.auth.minVersion: must be one of TLSv1.2, TLSv1.3']);
  t.same(problems(auth({ cert: '/a', key: '/b', certificates: [] })), ['listeners.auth.certificates: unknown key'], 'SNI certificates are an edge feature');
});
