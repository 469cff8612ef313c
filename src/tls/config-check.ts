/**
 * Semantic checks of the TLS keys (issue 7), called from config/semantic.ts: rules a JSON
 * Schema cannot express. Like the rest of that pass it reads the document defensively — values
 * of the wrong type were reported by the schema pass and are skipped here.
 */
import type { PathSegment } from '../config/messages.js';
import { parseSubjectRule } from './client-auth.js';

type Obj = Record<string, unknown>;
type Report = (path: readonly PathSegment[], message: string) => void;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Lowercase LDH labels, optionally after one leading `*.` (RFC 6125 §6.4.3: the wildcard covers one label). */
const SNI_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function checkTlsConfig(doc: Obj, report: Report): void {
  const listeners = isObj(doc.listeners) ? doc.listeners : {};
  const https = isObj(listeners.https) ? listeners.https : null;
  const http = isObj(listeners.http) ? listeners.http : null;
  if (http !== null) {
    if (http.redirectToHttps === true && https === null) {
      report(['listeners', 'http', 'redirectToHttps'], 'needs listeners.https to redirect to');
    }
    if (http.redirectPort !== undefined && http.redirectToHttps !== true) {
      report(['listeners', 'http', 'redirectPort'], 'is only used with redirectToHttps: true');
    }
  }
  if (https !== null) checkHttpsListener(https, report);
  if (isObj(listeners.auth)) checkAuthListener(listeners.auth, 'auth', report);
  if (isObj(listeners.authGrpc)) checkAuthListener(listeners.authGrpc, 'authGrpc', report);
  const hasClientCa = https !== null && typeof https.clientCa === 'string';
  list(doc.routes).forEach((r, i) => {
    if (!isObj(r)) return;
    if (isObj(r.auth) && isObj(r.auth.clientCert)) checkClientCertAuth(r.auth.clientCert, ['routes', i, 'auth', 'clientCert'], hasClientCa, report);
    if (isObj(r.upstream) && isObj(r.upstream.tls)) checkUpstreamTls(r.upstream, ['routes', i, 'upstream'], report);
  });
}

function checkHttpsListener(https: Obj, report: Report): void {
  const at = (...rest: PathSegment[]) => ['listeners', 'https', ...rest];
  if (https.requireClientCert === true && https.clientCa === undefined) {
    report(at('requireClientCert'), 'needs clientCa: client certificates are verified against it');
  }
  const seen = new Map<string, string>();
  list(https.certificates).forEach((c, i) => {
    if (!isObj(c)) return;
    list(c.hosts).forEach((h, j) => {
      if (typeof h !== 'string' || h === '') return;
      if (!SNI_NAME.test(h) || h.length > 253) {
        report(at('certificates', i, 'hosts', j), 'must be a lowercase DNS name or a *. wildcard such as *.example.com');
        return;
      }
      const first = seen.get(h);
      if (first !== undefined) report(at('certificates', i, 'hosts', j), `"${h}" is already served by ${first}`);
      else seen.set(h, `listeners.https.certificates[${i}]`);
    });
  });
}

/** listeners.auth (issue 14), listeners.authGrpc: TLS when cert and key are both set; the other TLS keys need them. */
function checkAuthListener(auth: Obj, name: 'auth' | 'authGrpc', report: Report): void {
  const at = (...rest: PathSegment[]) => ['listeners', name, ...rest];
  if (auth.cert !== undefined && auth.key === undefined) report(at('key'), 'is required with cert');
  if (auth.key !== undefined && auth.cert === undefined) report(at('cert'), 'is required with key');
  if (auth.cert === undefined && auth.key === undefined) {
    for (const k of ['clientCa', 'minVersion'] as const) if (auth[k] !== undefined) report(at(k), `needs cert and key: ${name === 'auth' ? 'the auth listener' : 'listeners.authGrpc'} speaks TLS only with a certificate`);
    if (auth.requireClientCert === true) report(at('requireClientCert'), 'needs cert, key and clientCa');
  } else if (auth.requireClientCert === true && auth.clientCa === undefined) {
    report(at('requireClientCert'), 'needs clientCa: client certificates are verified against it');
  }
}

function checkClientCertAuth(cfg: Obj, at: PathSegment[], hasClientCa: boolean, report: Report): void {
  if (!hasClientCa) {
    report(at, 'needs listeners.https.clientCa: without it no client certificate is ever verified');
  }
  list(cfg.subjects).forEach((s, i) => {
    if (typeof s !== 'string') return;
    const rule = parseSubjectRule(s);
    if (typeof rule === 'string') report([...at, 'subjects', i], `must be ATTR=value pairs such as "CN=payments, O=Acme": ${rule}`);
  });
}

function checkUpstreamTls(upstream: Obj, at: PathSegment[], report: Report): void {
  const tls = upstream.tls as Obj;
  const targets = list(upstream.targets).filter((t): t is string => typeof t === 'string');
  if (targets.some((t) => !t.toLowerCase().startsWith('https://'))) {
    report([...at, 'tls'], 'applies to https:// targets only: every target must be https://');
  }
  if (tls.cert !== undefined && tls.key === undefined) report([...at, 'tls', 'key'], 'is required with cert');
  if (tls.key !== undefined && tls.cert === undefined) report([...at, 'tls', 'cert'], 'is required with key');
}
