/**
 * The access-policy report of `portcullis policy` (docs/policy.md): who may reach what, as the
 * compiled config says, in a shape stable enough to diff in CI. Every field is derived from the
 * validated config and the compiled route table; nothing depends on the time, the host or the
 * path the config was read from, so two runs over the same config give the same bytes.
 */

/** Bumped when a field changes meaning or is removed (adding a field does not bump it). */
export const REPORT_VERSION = 1;

export interface ListenerReport {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** The address is reachable from other machines (not 127.0.0.0/8, ::1 or localhost). */
  readonly exposed: boolean;
  readonly tls: boolean;
  readonly clientCert: 'none' | 'optional' | 'required';
}

export interface ProviderReport {
  readonly name: string;
  readonly issuer: string;
  readonly algorithms: readonly string[];
  readonly audiences: readonly string[];
  /** Where its verification keys come from: discovery, jwksUri, jwksFile or secret. */
  readonly keys: string;
  readonly introspection: boolean;
  /** Browser sign-in (auth.providers[].client) is configured. */
  readonly signIn: boolean;
  /** The shipped dev key pair, whose private half is public. */
  readonly devKey: boolean;
}

export interface RouteAuthReport {
  /** `none`: anonymous; `token`: a valid token (or session) is required. */
  readonly mode: 'none' | 'token';
  /** Providers whose tokens are accepted; ['*'] = every configured provider. */
  readonly providers: readonly string[];
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  readonly claims: Readonly<Record<string, string | number | boolean>>;
  /** A verified client certificate is required: the accepted subjects / SANs ([] = any). */
  readonly clientCert: { readonly subjects: readonly string[]; readonly sans: readonly string[] } | null;
  /** Browser sign-in provider (auth.login), or null. */
  readonly login: string | null;
}

export interface RateLimitReport {
  readonly policy: string;
  readonly key: string;
  readonly capacity: number;
  readonly refillPerSecond: number;
}

export interface WafReport {
  readonly mode: 'block' | 'detect' | 'off';
  /** Exclusions that apply to this route (their own or every-route ones), as `rules@target`. */
  readonly exclusions: readonly string[];
}

export interface RouteReport {
  /** 1-based position: the first matching route wins. */
  readonly order: number;
  readonly name: string;
  /** ['*'] = any host. */
  readonly hosts: readonly string[];
  /** `/api` (prefix on a segment boundary), `= /exact`, or `/` for every path. */
  readonly path: string;
  /** ['*'] = any method. */
  readonly methods: readonly string[];
  readonly network: { readonly allow: readonly string[]; readonly deny: readonly string[] };
  readonly auth: RouteAuthReport;
  readonly rateLimit: RateLimitReport | null;
  readonly waf: WafReport;
  readonly identityHeaders: Readonly<Record<string, string>>;
  readonly forwardAuthorization: boolean;
  /** Upstream targets; [] = forward-auth only (the edge answers 404). */
  readonly upstream: readonly string[];
  /** The compiled stage list, in order (what `portcullis check` prints). */
  readonly stages: readonly string[];
}

export type Severity = 'high' | 'medium' | 'low';

export interface Warning {
  /** Stable identifier, safe to match on in CI (docs/policy.md lists them). */
  readonly code: string;
  readonly severity: Severity;
  /** `route:<name>`, `listener:<name>`, `provider:<name>` or `server`. */
  readonly where: string;
  readonly message: string;
}

export interface PolicyReport {
  readonly version: number;
  readonly server: { readonly trustedProxies: readonly string[]; readonly stripIdentityHeaders: readonly string[] };
  readonly listeners: readonly ListenerReport[];
  readonly providers: readonly ProviderReport[];
  readonly routes: readonly RouteReport[];
  readonly warnings: readonly Warning[];
}
