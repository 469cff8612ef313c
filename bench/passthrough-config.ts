// The passthrough config the bench rows share: one route that sends everything, unauthenticated,
// to the upstream. The WAF is on by default in Portcullis, so every row says its mode: `off` for
// the passthrough and TLS rows (uninspected), `block` for the WAF-on rows.

export interface PassthroughOptions {
  /** waf.mode; default off. */
  readonly waf?: 'off' | 'block';
  /** waf.crs.rulesDir: the OWASP CRS engine instead of the built-in rules (issue 18). */
  readonly crs?: string;
  /** Listener lines added after `http` (e.g. an https listener), each without indentation. */
  readonly listeners?: readonly string[];
}

export function passthroughConfig(port: number, upstreamUrl: string, o: PassthroughOptions = {}): string {
  return [
    'server: { trustedProxies: [] }',
    'listeners:',
    `  http: { host: 127.0.0.1, port: ${port} }`,
    ...(o.listeners ?? []).map((l) => `  ${l}`),
    `waf: { mode: ${o.waf ?? 'off'}, paranoia: 1${o.crs === undefined ? '' : `, crs: { rulesDir: ${JSON.stringify(o.crs)} }`} }`,
    'routes:',
    '  - name: bench',
    '    match: { path: / }',
    '    auth: none',
    `    upstream: ${upstreamUrl}`,
    '',
  ].join('\n');
}
