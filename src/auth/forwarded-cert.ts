/**
 * The client certificate a TLS-terminating proxy forwards in a request header (RFC 8705 behind a
 * proxy; issue 20): its SHA-256 thumbprint, as RFC 8705 §3.1 `x5t#S256` spells it (base64url of
 * the hash of the DER certificate), or null when the header holds no usable certificate.
 *
 * Three formats, chosen in config (`auth.certificateBound.forwardedCertFormat`):
 * - `xfcc`: Envoy's X-Forwarded-Client-Cert, `Hash=<hex>;Cert="<url-encoded PEM>";Subject=…`.
 *   We hash the Cert when there is one (Envoy's Hash is the same hash, but the Cert is what the
 *   proxy saw; a Hash that disagrees with it makes the header worthless) and fall back to Hash
 *   only when no Cert was forwarded (`set_current_client_cert_details` without `cert: true`).
 *   More than one element (comma-separated, one per proxy hop with APPEND_FORWARD) is refused:
 *   which of them was the client's depends on every hop's config, so the edge proxy must
 *   SANITIZE_SET (docs/mtls-bound-tokens.md).
 * - `escaped-pem`: the URL-encoded PEM of NGINX's `$ssl_client_escaped_cert` (also what AWS ALB
 *   and Traefik's PassTLSClientCert write).
 * - `der-base64`: base64 of the DER certificate (HAProxy `%[ssl_c_der,base64]`).
 *
 * Parsing a certificate costs tens of microseconds, so answers are kept in a small bounded map
 * keyed by the header value: a client sends the same certificate on every request.
 */
import { createHash, X509Certificate } from 'node:crypto';

export type ForwardedCertFormat = 'xfcc' | 'escaped-pem' | 'der-base64';

/** Longest header value looked at; a PEM certificate chain of a sane size fits easily. */
const MAX_HEADER_BYTES = 16384;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/** base64url(SHA-256(DER)): RFC 8705 §3.1. */
export function thumbprintOfDer(der: Buffer): string {
  return createHash('sha256').update(der).digest('base64url');
}

function thumbprintOfPem(pem: string): string | null {
  try {
    return thumbprintOfDer(new X509Certificate(pem).raw);
  } catch {
    return null;
  }
}

function unescapePem(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

/** Splits on `sep` outside double quotes (RFC 7230 quoted-string: `\` escapes the next char). */
function splitUnquoted(text: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

function unquote(value: string): string {
  const v = value.trim();
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v;
}

/** Envoy's XFCC (one element only, see the file comment). */
export function thumbprintOfXfcc(value: string): string | null {
  const elements = splitUnquoted(value, ',');
  if (elements.length !== 1) return null;
  let cert: string | null = null;
  let hash: string | null = null;
  for (const pair of splitUnquoted(elements[0]!, ';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim().toLowerCase();
    if (key === 'cert') cert = unquote(pair.slice(eq + 1));
    else if (key === 'hash') hash = unquote(pair.slice(eq + 1));
  }
  const fromHash = hash !== null && HEX_SHA256.test(hash) ? Buffer.from(hash, 'hex').toString('base64url') : null;
  if (cert === null) return fromHash;
  const pem = unescapePem(cert);
  const fromCert = pem === null ? null : thumbprintOfPem(pem);
  if (fromCert === null) return null;
  return hash !== null && fromHash !== fromCert ? null : fromCert;
}

export function thumbprintOfForwarded(value: string, format: ForwardedCertFormat): string | null {
  if (value === '' || value.length > MAX_HEADER_BYTES) return null;
  if (format === 'xfcc') return thumbprintOfXfcc(value);
  if (format === 'escaped-pem') {
    const pem = unescapePem(value);
    return pem === null ? null : thumbprintOfPem(pem);
  }
  // Buffer.from ignores characters outside the alphabet: insist on a clean base64 string.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return null;
  try {
    return thumbprintOfDer(new X509Certificate(Buffer.from(value, 'base64')).raw);
  } catch {
    return null;
  }
}

/** One configured forwarded-certificate header with its bounded answer cache. */
export class ForwardedCertHeader {
  /** Lowercased header name, as in req.headers. */
  readonly header: string;
  readonly format: ForwardedCertFormat;
  readonly #maxEntries: number;
  readonly #answers = new Map<string, string | null>();

  constructor(header: string, format: ForwardedCertFormat, maxEntries = 1024) {
    this.header = header.toLowerCase();
    this.format = format;
    this.#maxEntries = maxEntries;
  }

  /** The thumbprint the header states; null when absent twice, empty or unusable. */
  thumbprint(raw: string | string[] | undefined): string | null {
    // Two copies: one of them is not the proxy's.
    if (typeof raw !== 'string') return null;
    const known = this.#answers.get(raw);
    if (known !== undefined) return known;
    const answer = thumbprintOfForwarded(raw, this.format);
    // Oldest first out: Map iterates in insertion order.
    if (this.#answers.size >= this.#maxEntries) this.#answers.delete(this.#answers.keys().next().value!);
    this.#answers.set(raw, answer);
    return answer;
  }
}
