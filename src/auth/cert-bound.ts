/**
 * RFC 8705 §3 certificate-bound access tokens (issue 20): a token whose `cnf` carries
 * `x5t#S256` passes only with the client certificate it was issued to — the verified
 * certificate of the TLS connection (edge shape, `listeners.https.clientCa`), or the one a
 * trusted TLS-terminating proxy forwards (`auth.certificateBound.forwardedCertHeader`; both
 * shapes). The TLS handshake proved the client holds that certificate's private key, so a stolen
 * token is useless without it.
 *
 * The token stage (authenticate.ts) calls `check` wherever it established an identity (fresh
 * signature check, verified-token cache, introspection — RFC 8705 §3.2 puts `cnf` in the
 * introspection answer too), so it runs on every request: the cache remembers the token, not the
 * connection it arrived on. Part of the `auth` stage rather than a stage of its own, so route
 * stage lists (`portcullis check`, forward-auth caching) are unchanged. Tokens without `cnf["x5t#S256"]` pass unchanged
 * unless `required` says every token must be bound.
 *
 * Failures are 401 invalid_token (RFC 8705 §3: "the resource server MUST … reject the request"
 * with the RFC 6750 error), never naming what was presented.
 */
import { CONTINUE, type RequestContext, type Respond, type Verdict } from '../contract/types.js';
import type { GatewayMetrics } from '../observe/metrics.js';
import { VerifiedClientCert } from '../tls/identity.js';
import { ForwardedCertHeader } from './forwarded-cert.js';

export type CertBoundReason = 'cert_required' | 'cert_mismatch' | 'not_cert_bound';

const DESCRIPTIONS: Readonly<Record<CertBoundReason, string>> = {
  cert_required: 'token is bound to a client certificate that was not presented',
  cert_mismatch: 'client certificate does not match the token',
  not_cert_bound: 'token is not bound to a client certificate',
};

/** The certificate's thumbprint, computed once per verified certificate (one per TLS connection). */
const thumbprints = new WeakMap<VerifiedClientCert, string>();

/** base64url of the SHA-256 of the DER certificate (RFC 8705 §3.1), from the fingerprint Node computed at handshake. */
export function connectionThumbprint(cert: VerifiedClientCert): string {
  let t = thumbprints.get(cert);
  if (t === undefined) {
    const hex = (cert.claims['cert'] as { fingerprint: string }).fingerprint;
    t = Buffer.from(hex, 'hex').toString('base64url');
    thumbprints.set(cert, t);
  }
  return t;
}

export interface CertBoundOptions {
  /** Refuse tokens that are not certificate-bound. */
  readonly required: boolean;
  /** Where a trusted proxy states the client's certificate; null reads only the connection's. */
  readonly forwarded: ForwardedCertHeader | null;
}

export class CertBinding {
  readonly #required: boolean;
  readonly #forwarded: ForwardedCertHeader | null;
  readonly #denials: ReadonlyMap<CertBoundReason, Respond>;
  readonly #metrics: GatewayMetrics;

  constructor(opts: CertBoundOptions, realm: string, metrics: GatewayMetrics) {
    this.#required = opts.required;
    this.#forwarded = opts.forwarded;
    this.#metrics = metrics;
    const denials = new Map<CertBoundReason, Respond>();
    for (const [reason, description] of Object.entries(DESCRIPTIONS) as [CertBoundReason, string][]) {
      denials.set(reason, Object.freeze({
        kind: 'respond', status: 401, decision: 'unauthenticated', error: 'invalid_token',
        headers: Object.freeze({ 'www-authenticate': `Bearer realm="${realm}", error="invalid_token", error_description="${description}"` }),
      }));
    }
    this.#denials = denials;
  }

  /** CONTINUE, or the 401 that ends the request; ctx.identity is the identity just established. */
  check(ctx: RequestContext): Verdict {
    const identity = ctx.identity;
    if (identity === null) return CONTINUE;
    const cnf = identity.claims['cnf'];
    const bound = cnf !== null && typeof cnf === 'object' ? (cnf as Record<string, unknown>)['x5t#S256'] : undefined;
    if (bound === undefined) return this.#required ? this.#fail(ctx, 'not_cert_bound') : CONTINUE;
    const presented = this.presentedThumbprint(ctx);
    if (presented === null) return this.#fail(ctx, 'cert_required');
    // A thumbprint is public: no constant-time compare needed.
    return presented === bound ? CONTINUE : this.#fail(ctx, 'cert_mismatch');
  }

  /**
   * The client certificate's thumbprint: the trusted proxy's statement when it made one, else
   * (edge shape only) the connection's verified certificate. In the forward-auth shape the
   * connection is the proxy's own, so its certificate says nothing about the client.
   */
  presentedThumbprint(ctx: RequestContext): string | null {
    const forwarded = this.#forwarded;
    if (forwarded !== null && ctx.peerTrusted === true) {
      const raw = ctx.headers[forwarded.header];
      if (raw !== undefined) return forwarded.thumbprint(raw);
    }
    if (ctx.shape === 'forward-auth') return null;
    const cert = ctx.clientCert;
    return cert instanceof VerifiedClientCert ? connectionThumbprint(cert) : null;
  }

  #fail(ctx: RequestContext, reason: CertBoundReason): Respond {
    this.#metrics.authFailuresTotal.labels(ctx.identity!.provider, reason).inc();
    // Not an identity the route may act on: nor one the access log should name.
    ctx.identity = null;
    return this.#denials.get(reason)!;
  }
}
