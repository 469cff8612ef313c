/**
 * The verified TLS client certificate as an identity (issue 7, mTLS): read once per
 * connection, at handshake time, and hung on the socket, so a request costs one property read.
 *
 * Only a certificate the TLS layer verified against `clientCa` (`socket.authorized`) is ever
 * recorded: with `requireClientCert: false` a client may present a self-signed or expired one,
 * and the handshake succeeds, but no route sees it as an identity.
 */
import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { ClientCertificate, Identity } from '../contract/types.js';

const kClientCert = Symbol('portcullis.clientCert');

export class VerifiedClientCert implements ClientCertificate {
  readonly subject: string;
  /** Upper-cased attribute name → its values, unescaped ("CN" → ["alice"]). */
  readonly attributes: ReadonlyMap<string, readonly string[]>;
  readonly sans: readonly string[];
  readonly claims: Readonly<Record<string, unknown>>;
  /** What a route authenticated by the certificate alone puts in ctx.identity: `sub` is the subject. */
  readonly identity: Identity;

  constructor(x509: X509Certificate) {
    // Node prints the subject one RDN per line in certificate order, values escaped as RFC 4514
    // wants; the RFC 4514 string lists them the other way round (most specific first, §2.1).
    const lines = x509.subject.split('\n');
    this.subject = lines.slice().reverse().join(',');
    const attributes = new Map<string, string[]>();
    for (const line of lines) {
      const eq = line.indexOf('=');
      if (eq <= 0) continue;
      const name = line.slice(0, eq).toUpperCase();
      const value = unescapeDnValue(line.slice(eq + 1));
      const had = attributes.get(name);
      if (had === undefined) attributes.set(name, [value]);
      else had.push(value);
    }
    this.attributes = attributes;
    this.sans = Object.freeze(parseSubjectAltNames(x509.subjectAltName));
    const ofType = (prefix: string) => this.sans.filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length));
    const cert = Object.freeze({
      subject: this.subject,
      cn: attributes.get('CN')?.[0] ?? null,
      san: this.sans,
      dns: Object.freeze(ofType('DNS:')),
      uri: Object.freeze(ofType('URI:')),
      email: Object.freeze(ofType('email:')),
      ip: Object.freeze(ofType('IP:')),
      issuer: x509.issuer.split('\n').reverse().join(','),
      fingerprint: x509.fingerprint256.replaceAll(':', '').toLowerCase(),
      serial: x509.serialNumber,
      notAfter: new Date(x509.validTo).toISOString(),
    });
    this.claims = Object.freeze({ cert });
    this.identity = Object.freeze({ provider: '', sub: this.subject, claims: Object.freeze({ sub: this.subject, cert }) });
    Object.freeze(this);
  }
}

/** At 'secureConnection': remember the verified client certificate of this connection, if any. */
export function recordClientCert(socket: TLSSocket): void {
  if (!socket.authorized) return;
  const x509 = socket.getPeerX509Certificate();
  if (x509 === undefined) return;
  (socket as unknown as Record<symbol, VerifiedClientCert>)[kClientCert] = new VerifiedClientCert(x509);
}

/**
 * The certificate recorded on a request's socket. For HTTP/2 `req.socket` is Node's proxy of
 * the session's TLS socket, which forwards property reads to it, so the lookup is the same.
 */
export function clientCertOf(socket: unknown): VerifiedClientCert | null {
  if (socket === null || typeof socket !== 'object') return null;
  const cert = (socket as Record<symbol, unknown>)[kClientCert];
  return cert instanceof VerifiedClientCert ? cert : null;
}

/** `\,` → `,` (RFC 4514 §2.4 escapes; Node never prints the hex form for printable characters). */
export function unescapeDnValue(value: string): string {
  return value.includes('\\') ? value.replace(/\\(.)/g, '$1') : value;
}

/**
 * Node's `subjectAltName` text ("DNS:a, IP Address:10.0.0.1, URI:spiffe://…") as a list of
 * "TYPE:value" with IP normalised to "IP". Node JSON-quotes any value carrying a comma, quote
 * or control character (the CVE-2021-44532 fix), so a value cannot forge a second entry.
 */
export function parseSubjectAltNames(text: string | undefined): string[] {
  const out: string[] = [];
  if (text === undefined) return out;
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const type = text.slice(i, colon);
    let value: string;
    let next: number;
    if (text.charCodeAt(colon + 1) === 34 /* '"' */) {
      let j = colon + 2;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      value = jsonString(text.slice(colon + 1, j + 1));
      next = j + 1;
    } else {
      const end = text.indexOf(', ', colon + 1);
      next = end < 0 ? text.length : end;
      value = text.slice(colon + 1, next);
    }
    out.push(canonicalSan(type === 'IP Address' ? 'IP' : type, value));
    i = text.startsWith(', ', next) ? next + 2 : next + 1;
  }
  return out;
}

function jsonString(quoted: string): string {
  try {
    const v: unknown = JSON.parse(quoted);
    return typeof v === 'string' ? v : quoted;
  } catch {
    return quoted;
  }
}

/** One spelling per name: DNS names compare case-insensitively, IPv6 in its compressed form. */
export function canonicalSan(type: string, value: string): string {
  if (type === 'DNS') return 'DNS:' + value.toLowerCase();
  if (type === 'IP' && value.includes(':')) {
    try {
      return 'IP:' + new URL(`http://[${value}]/`).hostname.slice(1, -1);
    } catch {
      return 'IP:' + value;
    }
  }
  return type + ':' + value;
}
