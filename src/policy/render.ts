/**
 * The report for people: `table` (a terminal) and `markdown` (a pull-request comment). Both show
 * the same facts as the JSON, one line per route, then the warnings.
 */
import type { PolicyReport, RouteReport } from './model.js';

export type TextFormat = 'table' | 'markdown';

const COLUMNS = ['#', 'route', 'hosts', 'path', 'methods', 'network', 'auth', 'rate limit', 'waf', 'identity headers', 'upstream'] as const;

export function renderReport(report: PolicyReport, format: TextFormat): string {
  const rows = report.routes.map(routeCells);
  const listenerRows = report.listeners.map((l) => [l.name, `${l.host}:${l.port}`, l.exposed ? 'exposed' : 'loopback', l.tls ? 'tls' : 'plain', l.clientCert]);
  const warningRows = report.warnings.map((w) => [w.severity, w.code, w.where, w.message]);
  const providerRows = report.providers.map((p) => [p.name, p.issuer, p.keys, p.algorithms.join(','), p.audiences.join(',') || '(any)', p.devKey ? 'DEV KEY' : '']);
  const proxies = report.server.trustedProxies.join(', ') || '(none)';
  if (format === 'markdown') {
    return [
      `## Access policy (report version ${report.version})`, '',
      `Trusted proxies: ${proxies}`, '',
      '### Listeners', '', ...mdTable(['listener', 'address', 'reach', 'transport', 'client cert'], listenerRows), '',
      '### Providers', '', ...mdTable(['provider', 'issuer', 'keys', 'algorithms', 'audiences', ''], providerRows), '',
      '### Routes (first match wins)', '', ...mdTable([...COLUMNS], rows), '',
      `### Warnings (${report.warnings.length})`, '',
      ...(warningRows.length === 0 ? ['None.'] : mdTable(['severity', 'code', 'where', 'warning'], warningRows)), '',
    ].join('\n');
  }
  return [
    `access policy (report version ${report.version}); trusted proxies: ${proxies}`, '',
    ...textTable(['listener', 'address', 'reach', 'transport', 'client cert'], listenerRows), '',
    ...textTable(['provider', 'issuer', 'keys', 'algorithms', 'audiences', ''], providerRows), '',
    'routes, first match wins:',
    ...textTable([...COLUMNS], rows), '',
    `warnings: ${report.warnings.length}`,
    ...warningRows.map(([sev, code, where, msg]) => `  ${sev!.padEnd(6)} ${code} [${where}] ${msg}`), '',
  ].join('\n');
}

export function authText(r: RouteReport): string {
  const a = r.auth;
  if (a.mode === 'none') return 'none (anonymous)';
  const parts = [`token from ${a.providers.join('|')}`];
  if (a.scopes.length) parts.push(`scopes ${a.scopes.join(' ')}`);
  if (a.roles.length) parts.push(`roles ${a.roles.join(' ')}`);
  const claims = Object.keys(a.claims).sort().map((k) => `${k}=${String(a.claims[k])}`);
  if (claims.length) parts.push(`claims ${claims.join(' ')}`);
  if (a.clientCert !== null) parts.push(`client cert${a.clientCert.subjects.length + a.clientCert.sans.length ? ' ' + [...a.clientCert.subjects, ...a.clientCert.sans].join(' ') : ''}`);
  if (a.login !== null) parts.push(`sign-in ${a.login}`);
  return parts.join('; ');
}

function routeCells(r: RouteReport): string[] {
  const net = [...r.network.allow.map((c) => `allow ${c}`), ...r.network.deny.map((c) => `deny ${c}`)].join(' ') || 'any';
  const rl = r.rateLimit === null ? 'none' : `${r.rateLimit.policy} (${r.rateLimit.key}, ${r.rateLimit.capacity} @ ${r.rateLimit.refillPerSecond}/s)`;
  const waf = r.waf.mode + (r.waf.exclusions.length ? ` (excl. ${r.waf.exclusions.join('; ')})` : '');
  const ids = Object.keys(r.identityHeaders).sort().map((k) => `${k}=${r.identityHeaders[k]}`).join(' ') || '-';
  const up = r.upstream.length ? r.upstream.join(' ') : '(forward-auth only)';
  return [String(r.order), r.name, r.hosts.join(' '), r.path, r.methods.join(' '), net, authText(r), rl, waf, ids, up];
}

function textTable(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}

function mdTable(head: string[], rows: string[][]): string[] {
  const cell = (c: string) => c.replace(/\|/g, '\\|');
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}
