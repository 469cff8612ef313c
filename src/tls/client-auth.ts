/**
 * Route auth by TLS client certificate (issue 7; route `auth.clientCert`, docs/tls.md).
 *
 * The certificate was verified by the TLS layer against `listeners.https.clientCa`; this stage
 * only decides whether the route accepts it: one of `subjects` (every listed attribute present
 * with that value, order-free) or one of `sans` (exact, DNS case-insensitively); with neither,
 * any verified certificate passes. Without token requirements on the route the certificate is
 * the identity (`sub` = its subject); with them the token stages run after this one and the
 * token's identity is the one forwarded, while `cert.*` identity headers still read the
 * certificate.
 *
 * Refusals are 403, never 401: a 401 must carry a WWW-Authenticate challenge (RFC 9110
 * §15.5.2) and there is no HTTP scheme for a TLS client certificate to offer.
 */
import type { ClientCertAuthConfig, RouteConfig } from '../config/types.js';
import type { GatewayMetrics } from '../observe/metrics.js';
import { CONTINUE, type RequestContext, type Respond, type Stage, type Verdict } from '../contract/types.js';
import { canonicalSan, unescapeDnValue, VerifiedClientCert } from './identity.js';

const REQUIRED: Respond = Object.freeze({ kind: 'respond', status: 403, decision: 'unauthenticated', error: 'client_certificate_required' });
const NOT_ALLOWED: Respond = Object.freeze({ kind: 'respond', status: 403, decision: 'forbidden', error: 'client_certificate_not_allowed' });
/** The `provider` label of portcullis_auth_failures_total for certificate refusals. */
const METRIC_PROVIDER = 'clientCert';

/** One `subjects` entry: attribute (upper-cased) → required value. */
type SubjectRule = readonly (readonly [string, string])[];

/**
 * "CN=payments, O=Acme\, Inc" → [["CN","payments"],["O","Acme, Inc"]], or an error message.
 * Backslash escapes the next character (RFC 4514 §2.4 style), so values may hold commas.
 */
export function parseSubjectRule(text: string): SubjectRule | string {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      current += c + text[++i]!;
    } else if (c === ',') {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  const rule: [string, string][] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? '' : part.slice(0, eq).trim().toUpperCase();
    const value = eq < 0 ? '' : unescapeDnValue(part.slice(eq + 1).trim());
    if (!/^[A-Z][A-Z0-9.]*$/.test(name) || value === '') return `"${part.trim()}" is not ATTR=value`;
    rule.push([name, value]);
  }
  return rule;
}

/** "DNS:Api.Internal" → "DNS:api.internal": the spelling VerifiedClientCert.sans uses. */
function parseSanRule(text: string): string {
  const colon = text.indexOf(':');
  return canonicalSan(text.slice(0, colon), text.slice(colon + 1));
}

export class ClientCertStage implements Stage {
  readonly name = 'clientCert';
  /** Whether token stages follow: then the token, not the certificate, is ctx.identity. */
  readonly withToken: boolean;
  readonly #subjects: readonly SubjectRule[];
  readonly #sans: ReadonlySet<string>;
  readonly #any: boolean;
  readonly #missing: { inc(): void };
  readonly #refused: { inc(): void };

  constructor(cfg: ClientCertAuthConfig, withToken: boolean, metrics: GatewayMetrics) {
    this.withToken = withToken;
    const subjects: SubjectRule[] = [];
    for (const s of cfg.subjects ?? []) {
      const rule = parseSubjectRule(s);
      // semantic.ts (config-check.ts) reported these already; reaching here is a bug.
      if (typeof rule === 'string') throw new Error(`invalid clientCert subject reached the compiler: ${rule}`);
      subjects.push(rule);
    }
    this.#subjects = Object.freeze(subjects);
    this.#sans = new Set((cfg.sans ?? []).map(parseSanRule));
    this.#any = subjects.length === 0 && this.#sans.size === 0;
    this.#missing = metrics.authFailuresTotal.labels(METRIC_PROVIDER, 'missing');
    this.#refused = metrics.authFailuresTotal.labels(METRIC_PROVIDER, 'not_allowed');
  }

  handle(ctx: RequestContext): Verdict {
    const cert = ctx.clientCert;
    if (!(cert instanceof VerifiedClientCert)) {
      this.#missing.inc();
      return REQUIRED;
    }
    if (!this.#any && !this.#accepts(cert)) {
      this.#refused.inc();
      return NOT_ALLOWED;
    }
    if (!this.withToken) ctx.identity = cert.identity;
    return CONTINUE;
  }

  #accepts(cert: VerifiedClientCert): boolean {
    for (const san of cert.sans) if (this.#sans.has(san)) return true;
    for (const rule of this.#subjects) if (subjectMatches(cert, rule)) return true;
    return false;
  }
}

function subjectMatches(cert: VerifiedClientCert, rule: SubjectRule): boolean {
  for (const [name, value] of rule) {
    const values = cert.attributes.get(name);
    if (values === undefined || !values.includes(value)) return false;
  }
  return true;
}

/** Whether the route's auth asks for a token besides the certificate. */
function asksForToken(auth: Exclude<RouteConfig['auth'], 'none' | undefined>): boolean {
  return auth.providers !== undefined || (auth.scopes?.length ?? 0) > 0 || (auth.roles?.length ?? 0) > 0
    || Object.keys(auth.claims ?? {}).length > 0;
}

/** The route's certificate stage, or null when its auth has no clientCert. */
export function compileClientCertStage(route: RouteConfig, metrics: GatewayMetrics): ClientCertStage | null {
  const auth = route.auth;
  if (auth === undefined || auth === 'none' || auth.clientCert === undefined) return null;
  return new ClientCertStage(auth.clientCert, asksForToken(auth), metrics);
}
