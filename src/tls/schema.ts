/**
 * The config schema fragments of TLS (issue 7; PRODUCT §3 `listeners.https`): the HTTPS
 * listener, route `auth.clientCert` and upstream `tls`, owned here and spliced into
 * config/schema.ts as ratelimit/schema.ts's are. The descriptions are the config reference;
 * docs/tls.md tells the longer story.
 */

const path = (description: string) => ({ type: 'string', description, minLength: 1, maxLength: 4096 });

/** RFC 6797 §6.1: max-age is required; includeSubDomains and preload (hstspreload.org) are optional. */
const HSTS_PATTERN = '^max-age=[0-9]{1,10}(; ?(includeSubDomains|preload))*$';

/** A DNS name or *.wildcard (checked further in config-check.ts). */
const sniHosts = {
  type: 'array',
  description: 'Server names (SNI) this certificate answers for: exact names or *.wildcards covering one label, lowercase.',
  items: { type: 'string', description: 'A host name or *.wildcard.', minLength: 1, maxLength: 253 },
  minItems: 1,
  maxItems: 256,
  uniqueItems: true,
};

/**
 * The TLS keys `listeners.https` and `listeners.auth` share (PRODUCT §8), read by the one
 * implementation behind both (server/tls-listener.ts).
 */
export const LISTENER_TLS_PROPERTIES = {
  cert: path('PEM certificate chain file (leaf first). Watched and reloaded when it changes.'),
  key: path('PEM private key file of `cert` (unencrypted).'),
  minVersion: {
    type: 'string',
    description: 'Lowest TLS version accepted. TLS 1.0 and 1.1 are never accepted (RFC 8996). Default: TLSv1.2.',
    enum: ['TLSv1.2', 'TLSv1.3'],
    default: 'TLSv1.2',
  },
  clientCa: path('PEM bundle of the CAs client certificates are verified against (mTLS). Absent: client certificates are not requested.'),
  requireClientCert: {
    type: 'boolean',
    description: 'Refuse the TLS handshake of clients without a certificate verified against clientCa. false: a certificate is optional (on listeners.https, routes decide with auth.clientCert). Default: false.',
    default: false,
  },
};

/**
 * The same keys for `listeners.auth`, whose TLS is optional: no schema defaults, so a plain auth
 * listener carries no TLS keys at all (server/auth-listener.ts applies the same defaults).
 */
export const AUTH_LISTENER_TLS_PROPERTIES = Object.fromEntries(
  Object.entries(LISTENER_TLS_PROPERTIES).map(([name, schema]) => {
    const { default: _default, ...rest } = schema as Record<string, unknown>;
    return [name, rest];
  }),
);

export const HTTPS_LISTENER_SCHEMA = {
  type: 'object',
  description:
    'HTTPS listener for proxied traffic (edge shape): HTTP/2 by ALPN with HTTP/1.1 fallback. ' +
    'Certificate files are watched and reloaded when they change (cert-manager, Vault agent …) without dropping connections.',
  additionalProperties: false,
  required: ['host', 'port', 'cert', 'key'],
  properties: {
    host: {
      type: 'string',
      description: 'Address to bind: an IP address such as 0.0.0.0, 127.0.0.1 or ::, or a host name.',
      minLength: 1,
      pattern: '^[A-Za-z0-9.:_-]+$',
      errorMessage: 'must be an IP address or host name',
    },
    port: { type: 'integer', description: 'TCP port to bind. 0 lets the OS pick a free port (used by tests).', minimum: 0, maximum: 65535 },
    ...LISTENER_TLS_PROPERTIES,
    cert: path('PEM certificate chain file (leaf first), served when no `certificates` entry matches the SNI name.'),
    http2: { type: 'boolean', description: 'Offer HTTP/2 (h2) by ALPN; HTTP/1.1 is always available. Default: true.', default: true },
    hsts: {
      type: 'string',
      description: 'Strict-Transport-Security value sent on every HTTPS response, e.g. "max-age=31536000; includeSubDomains". Replaces an upstream\'s own. Absent: none is sent.',
      pattern: HSTS_PATTERN,
      errorMessage: 'must be "max-age=<seconds>" optionally followed by "; includeSubDomains" and/or "; preload"',
    },
    certificates: {
      type: 'array',
      description: 'More certificates, chosen by the SNI name the client sends. Default: [].',
      default: [],
      maxItems: 256,
      items: {
        type: 'object',
        description: 'One certificate and the names it serves.',
        additionalProperties: false,
        required: ['hosts', 'cert', 'key'],
        properties: {
          hosts: sniHosts,
          cert: path('PEM certificate chain file (leaf first).'),
          key: path('PEM private key file of cert.'),
        },
      },
    },
  },
};

export const REDIRECT_PORT_SCHEMA = {
  type: 'integer',
  description: 'With redirectToHttps: the port written in the Location, for when a load balancer exposes the HTTPS listener on another port (443 is left out of the URL). Default: listeners.https.port.',
  minimum: 1,
  maximum: 65535,
};

/** `auth.clientCert` of a route. */
export const CLIENT_CERT_AUTH_SCHEMA = {
  type: 'object',
  description:
    'Require a TLS client certificate verified against listeners.https.clientCa. The certificate must match one of `subjects` or one of `sans`; ' +
    'with neither, any verified certificate passes. Without providers, scopes, roles or claims the certificate alone authenticates; with any of them a token is required too.',
  additionalProperties: false,
  properties: {
    subjects: {
      type: 'array',
      description: 'Accepted subjects, each a comma-separated list of attributes the certificate subject must all carry: "CN=payments, O=Acme". Order does not matter; escape a comma in a value as "\\,".',
      items: { type: 'string', description: 'ATTR=value pairs such as "CN=payments, O=Acme".', minLength: 3, maxLength: 1024, pattern: '^\\s*[A-Za-z][A-Za-z0-9.]*\\s*=', errorMessage: 'must be ATTR=value pairs such as "CN=payments, O=Acme"' },
      maxItems: 256,
      uniqueItems: true,
    },
    sans: {
      type: 'array',
      description: 'Accepted subject alternative names, exactly: "DNS:payments.internal", "URI:spiffe://cluster.local/ns/pay/sa/api", "email:ops@example.com", "IP:10.0.0.7".',
      items: { type: 'string', description: 'TYPE:value with TYPE one of DNS, URI, email, IP.', pattern: '^(DNS|URI|email|IP):.+$', maxLength: 1024, errorMessage: 'must be DNS:…, URI:…, email:… or IP:…' },
      maxItems: 256,
      uniqueItems: true,
    },
  },
};

/** `upstream.tls` of a route (object form). */
export const UPSTREAM_TLS_SCHEMA = {
  type: 'object',
  description: 'TLS towards https:// targets. Without it the system CAs verify the upstream and its URL host name is checked. Files are watched and reloaded when they change.',
  additionalProperties: false,
  properties: {
    ca: path('PEM CA bundle the upstream certificate must chain to; replaces the system CAs.'),
    cert: path('PEM client certificate presented to the upstream (mTLS); requires key.'),
    key: path('PEM private key of cert.'),
    serverName: {
      type: 'string',
      description: 'Name sent as SNI and checked against the upstream certificate. Default: the target URL\'s host name (an IP address is checked against IP SANs and sends no SNI).',
      minLength: 1,
      maxLength: 253,
      pattern: '^[A-Za-z0-9.-]+$',
      errorMessage: 'must be a DNS name',
    },
    rejectUnauthorized: {
      type: 'boolean',
      description: 'Verify the upstream certificate and its name. false is for local experiments only and is logged as a warning. Default: true.',
      default: true,
    },
  },
};
