/**
 * The TLS config keys (issue 7): defaults, and every path-named error of the schema and the
 * semantic pass (tls/schema.ts, tls/config-check.ts).
 */
import t from 'tap';
import { validateConfig } from '../../src/config/validate.js';
import { listenerChangesNeedingRestart } from '../../src/server/listener-changes.js';
import type { ListenersConfig } from '../../src/config/types.js';
import { problemsOf } from '../helpers/config-problems.js';

const HTTPS = { host: '0.0.0.0', port: 8443, cert: '/tls/tls.crt', key: '/tls/tls.key' };
const route = (extra: Record<string, unknown> = {}) => ({ name: 'r', match: {}, upstream: 'http://127.0.0.1:1', ...extra });

void t.test('listeners.https: defaults', async (t) => {
  const cfg = validateConfig({ listeners: { https: HTTPS }, routes: [] });
  t.same(cfg.listeners.https, { ...HTTPS, minVersion: 'TLSv1.2', http2: true, requireClientCert: false, certificates: [] });
});

void t.test('listeners.https: structural and semantic errors name their path', async (t) => {
  t.same(problemsOf({ listeners: { https: { host: '0.0.0.0', port: 8443 } }, routes: [] }), [
    'listeners.https.cert: is required',
    'listeners.https.key: is required',
  ]);
  t.same(problemsOf({
    listeners: {
      https: {
        ...HTTPS, minVersion: 'TLSv1.1', hsts: 'max-age=abc', requireClientCert: true, ciphers: 'x',
        certificates: [{ hosts: ['API.example.com'], cert: 'a', key: 'b' }, { hosts: ['*.example.com', 'a.*.com'], cert: 'c', key: 'd' }, { hosts: ['*.example.com'], cert: 'e', key: 'f' }],
      },
    },
    routes: [],
  }), [
    'listeners.https.minVersion: must be one of TLSv1.2, TLSv1.3',
    'listeners.https.hsts: must be "max-age=<seconds>" optionally followed by "; includeSubDomains" and/or "; preload"',
    'listeners.https.requireClientCert: needs clientCa: client certificates are verified against it',
    'listeners.https.ciphers: unknown key',
    'listeners.https.certificates[0].hosts[0]: must be a lowercase DNS name or a *. wildcard such as *.example.com',
    'listeners.https.certificates[1].hosts[1]: must be a lowercase DNS name or a *. wildcard such as *.example.com',
    'listeners.https.certificates[2].hosts[0]: "*.example.com" is already served by listeners.https.certificates[1]',
  ]);
  t.doesNotThrow(() => validateConfig({ listeners: { https: { ...HTTPS, minVersion: 'TLSv1.3', hsts: 'max-age=63072000; includeSubDomains; preload' } }, routes: [] }));
});

void t.test('redirectToHttps needs an HTTPS listener; the two may not share a port', async (t) => {
  t.same(problemsOf({ listeners: { http: { host: '0.0.0.0', port: 8080, redirectToHttps: true } }, routes: [] }), [
    'listeners.http.redirectToHttps: needs listeners.https to redirect to',
  ]);
  t.same(problemsOf({ listeners: { http: { host: '0.0.0.0', port: 8080, redirectPort: 443 }, https: { ...HTTPS, port: 8080 } }, routes: [] }), [
    'listeners.http.redirectPort: is only used with redirectToHttps: true',
    'listeners.https.port: 0.0.0.0:8080 clashes with listeners.http (0.0.0.0:8080)',
  ]);
});

void t.test('route auth.clientCert', async (t) => {
  const withCa = { https: { ...HTTPS, clientCa: '/tls/ca.crt' } };
  t.doesNotThrow(() => validateConfig({ listeners: withCa, routes: [route({ auth: { clientCert: { subjects: ['CN=a, O=Acme\\, Inc'], sans: ['URI:spiffe://x/y', 'DNS:a.b'] } } })] }));
  t.same(problemsOf({ listeners: { https: HTTPS }, routes: [route({ auth: { clientCert: {} } })] }), [
    'routes[0].auth.clientCert: needs listeners.https.clientCa: without it no client certificate is ever verified',
  ]);
  t.same(problemsOf({ listeners: withCa, routes: [route({ auth: { clientCert: { subjects: ['CN=a, O'], sans: ['spiffe://x'], issuer: 'x' } } })] }), [
    'routes[0].auth.clientCert.subjects[0]: must be ATTR=value pairs such as "CN=payments, O=Acme": "O" is not ATTR=value',
    'routes[0].auth.clientCert.sans[0]: must be DNS:…, URI:…, email:… or IP:…',
    'routes[0].auth.clientCert.issuer: unknown key',
  ]);
});

void t.test('rate-limit key cert', async (t) => {
  t.doesNotThrow(() => validateConfig({ listeners: { https: HTTPS }, rateLimits: { policies: { p: { key: 'cert', capacity: 1, refillPerSecond: 1 } } }, routes: [] }));
});

void t.test('upstream.tls', async (t) => {
  const up = (tls: Record<string, unknown>, targets = ['https://orders:8443']) => route({ upstream: { targets, tls } });
  t.doesNotThrow(() => validateConfig({ listeners: { https: HTTPS }, routes: [up({ ca: '/ca.crt', cert: '/c.crt', key: '/c.key', serverName: 'orders.internal' })] }));
  t.same(problemsOf({ listeners: { https: HTTPS }, routes: [up({ cert: '/c.crt', serverName: 'bad name' }, ['https://a:1', 'http://b:1'])] }), [
    'routes[0].upstream.tls: applies to https:// targets only: every target must be https://',
    'routes[0].upstream.tls.serverName: must be a DNS name',
    'routes[0].upstream.tls.key: is required with cert',
  ]);
});

void t.test('which listener changes a reload cannot apply', async (t) => {
  const base: ListenersConfig = {
    http: { host: '0.0.0.0', port: 8080, redirectToHttps: false },
    https: { ...HTTPS, minVersion: 'TLSv1.2', http2: true, requireClientCert: false, certificates: [] },
  };
  t.same(listenerChangesNeedingRestart(base, { ...base, https: { ...base.https!, cert: '/new.crt', key: '/new.key', hsts: 'max-age=1', clientCa: '/ca' } }), []);
  t.same(listenerChangesNeedingRestart(base, { ...base, https: { ...base.https!, port: 9443, http2: false } }), ['listeners.https.port', 'listeners.https.http2']);
  t.same(listenerChangesNeedingRestart(base, { http: { ...base.http!, redirectToHttps: true } }), ['listeners.http.redirectToHttps', 'listeners.https']);
});

void t.test('listeners.auth on reload: TLS files and policy apply in place, turning TLS on or off needs a restart', async (t) => {
  const plain = { auth: { host: '127.0.0.1', port: 8081, cacheMaxAgeSec: 0 } };
  const tls = { auth: { ...plain.auth, cert: '/a.crt', key: '/a.key' } };
  t.same(listenerChangesNeedingRestart(plain, tls), ['listeners.auth.cert'], 'plain → TLS');
  t.same(listenerChangesNeedingRestart(tls, plain), ['listeners.auth.cert'], 'TLS → plain');
  t.same(listenerChangesNeedingRestart(tls, { auth: { ...tls.auth, cert: '/b.crt', key: '/b.key', clientCa: '/ca', requireClientCert: true, cacheMaxAgeSec: 5 } }), [], 'rotated in place');
});
