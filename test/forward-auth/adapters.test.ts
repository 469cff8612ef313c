/**
 * The adapters alone: each caller's headers → the original request, for a trusted and an
 * untrusted caller (the scheme is visible only here: nothing in a forward-auth answer shows it).
 */
import t from 'tap';
import type { IncomingHttpHeaders } from 'node:http';
import { TrustedProxies } from '../../src/route/client-ip.js';
import { readNginx } from '../../src/forward-auth/nginx.js';
import { readTraefik } from '../../src/forward-auth/traefik.js';
import { readEnvoy } from '../../src/forward-auth/envoy.js';
import { readHaproxy } from '../../src/forward-auth/haproxy.js';
import { endpointOf } from '../../src/forward-auth/call.js';
import type { Caller } from '../../src/forward-auth/original.js';

const proxies = new TrustedProxies(['10.0.0.0/8']);
const caller = (headers: IncomingHttpHeaders, trusted: boolean): Caller => ({
  headers, peer: trusted ? '10.0.0.5' : '192.0.2.9', trusted, trustedProxies: proxies, listenerProto: 'http',
});
/** /nginx as configured for the shipped nginx.conf (trustOriginalUrl false), for ingress-nginx (true), and with the key unset (the default). */
const viaUri = (headers: IncomingHttpHeaders, trusted: boolean) => readNginx(caller(headers, trusted), false);
const viaUrl = (headers: IncomingHttpHeaders, trusted: boolean) => readNginx(caller(headers, trusted), true);
const viaDefault = (headers: IncomingHttpHeaders, trusted: boolean) => readNginx(caller(headers, trusted), undefined);

void t.test('nginx: X-Original-URI and -Method; X-Forwarded-* believed only when trusted', async (t) => {
  const headers = {
    host: 'auth.internal:8081', 'x-original-method': 'POST', 'x-original-uri': '/a/./b//c?q=%20x',
    'x-forwarded-host': 'App.Example.com:443', 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.7, 10.0.0.3',
  };
  t.match(viaUri(headers, true), {
    ok: true, method: 'POST', path: '/a/b/c', query: 'q=%20x', host: 'app.example.com', proto: 'https', clientIp: '198.51.100.7',
  });
  t.match(viaUri(headers, false), {
    ok: true, method: 'POST', path: '/a/b/c', query: 'q=%20x', host: 'auth.internal', proto: 'http', clientIp: '192.0.2.9',
  });
  t.match(viaUri({ ...headers, 'x-forwarded-for': undefined, 'x-real-ip': '::ffff:198.51.100.8' }, true), {
    ok: true, method: 'POST', path: '/a/b/c', query: 'q=%20x', host: 'app.example.com', proto: 'https', clientIp: '198.51.100.8',
  });
  t.match(viaUri({ ...headers, 'x-forwarded-proto': 'ftp' }, true), { proto: 'http' }, 'only http or https');
});

void t.test('nginx: X-Original-URL (ingress-nginx) gives path, query, and when trusted host and scheme', async (t) => {
  const headers = { host: 'portcullis.auth.svc', 'x-original-method': 'GET', 'x-original-url': 'HTTPS://shop.example.com:8443/cart/%7Eitems?id=1' };
  t.match(viaUrl(headers, true), {
    ok: true, method: 'GET', path: '/cart/~items', query: 'id=1', host: 'shop.example.com', proto: 'https', clientIp: '10.0.0.5',
  });
  t.match(viaUrl(headers, false), { ok: true, host: 'portcullis.auth.svc', proto: 'http', clientIp: '192.0.2.9' });
  t.match(viaUrl({ ...headers, 'x-forwarded-host': 'evil.example.com', 'x-forwarded-proto': 'http' }, true),
    { ok: true, host: 'shop.example.com', proto: 'https' }, 'the URL ingress-nginx built wins over X-Forwarded-* its client may have sent');
  t.match(viaUrl({ ...headers, 'x-original-uri': '/cart/%7Eitems?id=1' }, true), { ok: true, path: '/cart/~items' });
  t.same(viaUrl({ ...headers, 'x-original-uri': '/public' }, true), { ok: false, reason: 'original_uri_mismatch', pathForLog: '(no original uri)' });
  t.match(viaUrl({ ...headers, 'x-original-url': 'https://shop.example.com' }, true), { ok: true, path: '/', query: '' });
  t.match(viaUrl({ ...headers, 'x-original-url': 'https://shop.example.com?x=1' }, true), { ok: true, path: '/', query: 'x=1' });
  for (const bad of ['/cart', 'https://a@shop.example.com/', 'https:///cart', 'gopher://shop.example.com/']) {
    t.same(viaUrl({ ...headers, 'x-original-url': bad }, true), { ok: false, reason: 'bad_original_url', pathForLog: '(no original uri)' }, bad);
  }
  t.match(viaUrl({ ...headers, 'x-original-url': undefined, 'x-original-uri': '/cart' }, true), { ok: false, reason: 'missing_original_url' }, 'a caller said to write it always does');
});

void t.test('nginx, trustOriginalUrl unset (the default): either header alone as PRODUCT §5 says; both must agree', async (t) => {
  // Plain NGINX: X-Original-URI alone, host from X-Forwarded-Host.
  const plain = { host: '127.0.0.1:8081', 'x-original-method': 'GET', 'x-original-uri': '/admin/secret', 'x-forwarded-host': '127.0.0.1' };
  t.same(viaDefault(plain, true), viaUri(plain, true), 'X-Original-URI alone reads as trustOriginalUrl false');
  // ingress-nginx: X-Original-URL alone, its host believed from a trusted caller.
  const ingress = { host: 'portcullis.auth.svc', 'x-original-method': 'GET', 'x-original-url': 'https://shop.example.com/cart?id=1' };
  t.same(viaDefault(ingress, true), viaUrl(ingress, true), 'X-Original-URL alone reads as trustOriginalUrl true');
  t.match(viaDefault(ingress, true), { ok: true, host: 'shop.example.com', proto: 'https', path: '/cart', query: 'id=1' });
  // issue 22 §1 through a plain NGINX that does not clear the client's copy: both arrive, hosts differ.
  const spoofed = { ...plain, 'x-original-url': 'http://status.example.com/admin/secret' };
  t.same(viaDefault(spoofed, true), { ok: false, reason: 'original_url_mismatch', pathForLog: '/admin/secret' }, 'another host: refused');
  t.match(viaDefault({ ...spoofed, 'x-original-url': 'https://127.0.0.1/admin/secret' }, true), { ok: false, reason: 'original_url_mismatch' }, 'another scheme: refused');
  t.match(viaDefault({ ...spoofed, 'x-original-url': 'http://127.0.0.1/public' }, true), { ok: false, reason: 'original_uri_mismatch' }, 'another path: refused');
  // Through ingress-nginx, a client's own X-Original-URI cannot stand in for the URL it built.
  t.match(viaDefault({ ...ingress, 'x-original-uri': '/public' }, true), { ok: false, reason: 'original_uri_mismatch' });
  t.match(viaDefault({ ...spoofed, 'x-original-url': 'http://127.0.0.1/admin/secret' }, true),
    { ok: true, host: '127.0.0.1', path: '/admin/secret' }, 'both naming the same request: fine');
  t.match(viaDefault({ ...spoofed, 'x-original-url': 'http://status.example.com/admin/secret' }, false),
    { ok: true, host: '127.0.0.1' }, 'untrusted caller: Host alone, the URL host never read');
});

void t.test('nginx, trustOriginalUrl false: a client\'s X-Original-URL is refused, never believed', async (t) => {
  // issue 22 §1: a plain NGINX passes the client's X-Original-URL on unless its config clears it.
  const clean = { host: '127.0.0.1', 'x-original-method': 'GET', 'x-original-uri': '/admin/secret', 'x-forwarded-host': '127.0.0.1' };
  const spoofed = { ...clean, 'x-original-url': 'http://status.example.com/admin/secret' };
  for (const trusted of [true, false]) {
    t.same(viaUri(spoofed, trusted), { ok: false, reason: 'original_url_not_trusted', pathForLog: '(no original uri)' }, `trusted: ${trusted}`);
    t.match(viaUri({ ...spoofed, 'x-original-url': '' }, trusted), { ok: false, reason: 'original_url_not_trusted' }, 'even empty');
  }
  t.match(viaUri(clean, true), { ok: true, host: '127.0.0.1', path: '/admin/secret' }, 'the twin: the host NGINX states');
});

void t.test('nginx: what is missing or malformed, by name', async (t) => {
  const reason = (h: IncomingHttpHeaders) => { const r = viaUri({ host: 'x', ...h }, true); return r.ok ? 'ok' : r.reason; };
  t.equal(reason({ 'x-original-uri': '/' }), 'missing_original_method');
  t.equal(reason({ 'x-original-uri': '/', 'x-original-method': 'G E T' }), 'bad_original_method');
  t.equal(reason({ 'x-original-method': 'GET' }), 'missing_original_uri');
  t.equal(reason({ 'x-original-method': 'GET', 'x-original-uri': '' }), 'missing_original_uri');
  t.equal(reason({ 'x-original-method': 'GET', 'x-original-uri': '/a/../../b' }), 'path_above_root');
  t.equal(reason({ 'x-original-method': 'GET', 'x-original-uri': '/a%00' }), 'nul');
  t.equal(reason({ 'x-original-method': 'GET', 'x-original-uri': '/a', 'x-forwarded-host': 'a b' }), 'bad_original_host');
  t.equal(reason({ 'x-original-method': 'GET', 'x-original-uri': '/a', 'x-forwarded-host': 'a.example, b.example' }), 'bad_original_host');
  t.equal(reason({ 'x-original-method': 'GET', 'x-original-uri': '/a', host: undefined }), 'bad_original_host');
  const refused = viaUri({ host: 'x', 'x-original-method': 'GET', 'x-original-uri': '/p/%2f?token=secret' }, true);
  t.same(refused, { ok: false, reason: 'encoded_slash', pathForLog: '/p/%2f' }, 'the log path never has the query');
});

void t.test('traefik: X-Forwarded-Method and -Uri always; -Host, -Proto, -For only when trusted', async (t) => {
  const headers = {
    host: 'portcullis:8081', 'x-forwarded-method': 'PUT', 'x-forwarded-uri': '/v1/items/7',
    'x-forwarded-host': 'api.example.com', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.4',
  };
  t.match(readTraefik(caller(headers, true)), {
    ok: true, method: 'PUT', path: '/v1/items/7', query: '', host: 'api.example.com', proto: 'https', clientIp: '203.0.113.4',
  });
  t.match(readTraefik(caller(headers, false)), {
    ok: true, method: 'PUT', path: '/v1/items/7', query: '', host: 'portcullis', proto: 'http', clientIp: '192.0.2.9',
  });
  t.match(readTraefik(caller({ ...headers, 'x-forwarded-uri': undefined }, true)), { ok: false, reason: 'missing_original_uri' });
  t.match(readTraefik(caller({ ...headers, 'x-forwarded-method': undefined }, true)), { ok: false, reason: 'missing_original_method' });
  t.match(readTraefik(caller({ ...headers, 'x-real-ip': '203.0.113.99', 'x-forwarded-for': undefined }, true)), { clientIp: '10.0.0.5' }, 'no X-Real-IP for Traefik');
});

void t.test('envoy: the check request\'s method and the path after /envoy', async (t) => {
  const headers = { host: 'api.example.com', 'x-envoy-external-address': '203.0.113.20', 'x-forwarded-proto': 'https' };
  t.match(readEnvoy(caller(headers, true), 'DELETE', '/envoy/v1/x?y'), {
    ok: true, method: 'DELETE', path: '/v1/x', query: 'y', host: 'api.example.com', proto: 'https', clientIp: '203.0.113.20',
  });
  t.match(readEnvoy(caller(headers, false), 'DELETE', '/envoy/v1/x?y'), {
    ok: true, method: 'DELETE', path: '/v1/x', query: 'y', host: 'api.example.com', proto: 'http', clientIp: '192.0.2.9',
  });
  t.match(readEnvoy(caller(headers, true), 'GET', '/envoy/../x'), { ok: false, reason: 'path_above_root' });
  t.match(readEnvoy(caller({ ...headers, 'x-forwarded-host': 'evil.example.com' }, true), 'GET', '/envoy/'), { host: 'api.example.com' }, 'Envoy sets no X-Forwarded-Host: never read');
  t.match(readEnvoy(caller({ ...headers, 'x-forwarded-for': '203.0.113.21, 10.0.0.9' }, true), 'GET', '/envoy/'), { ok: true, path: '/', clientIp: '203.0.113.21' });
});

void t.test('haproxy: X-Original-URI and -Method; X-Forwarded-* and X-Real-IP believed only when trusted; X-Original-URL refused', async (t) => {
  const headers = {
    host: 'auth.internal:8081', 'x-original-method': 'DELETE', 'x-original-uri': '//a/%2e%2e/b?x=1',
    'x-forwarded-host': 'App.Example.com', 'x-forwarded-proto': 'https', 'x-real-ip': '198.51.100.9',
  };
  t.match(readHaproxy(caller(headers, true)), {
    ok: true, method: 'DELETE', path: '/b', query: 'x=1', host: 'app.example.com', proto: 'https', clientIp: '198.51.100.9',
  });
  t.match(readHaproxy(caller(headers, false)), {
    ok: true, method: 'DELETE', path: '/b', query: 'x=1', host: 'auth.internal', proto: 'http', clientIp: '192.0.2.9',
  });
  t.match(readHaproxy(caller({ ...headers, 'x-forwarded-for': '203.0.113.4, 10.0.0.7' }, true)), { clientIp: '203.0.113.4' }, 'X-Forwarded-For first, walked');
  t.match(readHaproxy(caller({ ...headers, 'x-original-url': 'http://status.example.com/' }, true)), { ok: false, reason: 'original_url_not_trusted' });
  t.match(readHaproxy(caller({ ...headers, 'x-original-url': '' }, true)), { ok: false, reason: 'original_url_not_trusted' }, 'even empty');
  t.match(readHaproxy(caller({ ...headers, 'x-original-uri': undefined }, true)), { ok: false, reason: 'missing_original_uri' });
  t.match(readHaproxy(caller({ ...headers, 'x-original-method': 'get' }, true)), { ok: false, reason: 'bad_original_method' });
  t.match(readHaproxy(caller({ ...headers, 'x-original-method': undefined }, true)), { ok: false, reason: 'missing_original_method' });
  t.match(readHaproxy(caller({ ...headers, 'x-original-uri': '/a/..%2fb' }, true)), { ok: false });
});

void t.test('endpointOf', async (t) => {
  t.same(
    ['/nginx', '/nginx?x', '/traefik', '/traefik?a=b', '/envoy/', '/envoy/a?b', '/haproxy', '/haproxy?x', '/envoy', '/envoyx', '/nginx/', '/NGINX', '/traefikx', '/haproxy/', ''].map(endpointOf),
    ['nginx', 'nginx', 'traefik', 'traefik', 'envoy', 'envoy', 'haproxy', 'haproxy', null, null, null, null, null, null, null],
  );
});
