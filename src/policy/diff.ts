/**
 * `portcullis policy --diff OLD NEW`: what a config change opens or closes (docs/policy.md).
 * "Opens" is anything that lets a request through that the old config refused, or weakens a
 * defence (a rate limit, the WAF, a trusted-proxy range); "closes" is the reverse; "changes" is
 * neither for sure (an upstream, an identity header). A reviewer reads the opens; CI fails on them.
 */
import type { ListenerReport, PolicyReport, ProviderReport, RouteReport } from './model.js';
import { REPORT_VERSION } from './model.js';
import { authText } from './render.js';
import { cmp } from './compare.js';

export type Effect = 'opens' | 'closes' | 'changes';

export interface Change {
  readonly effect: Effect;
  readonly where: string;
  readonly what: string;
}

export interface PolicyDiff {
  readonly version: number;
  readonly opens: number;
  readonly closes: number;
  readonly changes: readonly Change[];
}

const WAF_RANK = { off: 0, detect: 1, block: 2 } as const;

export function diffReports(before: PolicyReport, after: PolicyReport): PolicyDiff {
  const out: Change[] = [];
  const add = (effect: Effect, where: string, what: string): void => { out.push({ effect, where, what }); };

  setDiff(before.server.trustedProxies, after.server.trustedProxies, (x) => add('opens', 'server', `trusted proxy ${x} added`), (x) => add('closes', 'server', `trusted proxy ${x} removed`));
  pairs(before.listeners, after.listeners, (l) => add('opens', `listener:${l.name}`, `listener added on ${l.host}:${l.port}`),
    (l) => add('closes', `listener:${l.name}`, 'listener removed'), (o, n) => listenerDiff(o, n, add));
  pairs(before.providers, after.providers, (p) => add('opens', `provider:${p.name}`, `provider added (issuer ${p.issuer})`),
    (p) => add('closes', `provider:${p.name}`, 'provider removed'), (o, n) => providerDiff(o, n, add));
  pairs(before.routes, after.routes,
    (r) => add('opens', `route:${r.name}`, `route added: ${r.methods.join(' ')} ${r.hosts.join(' ')} ${r.path}, auth ${authText(r)}`),
    (r) => add('closes', `route:${r.name}`, 'route removed'), (o, n) => routeDiff(o, n, add));
  const key = (w: { code: string; where: string }) => `${w.code} ${w.where}`;
  const oldW = new Map(before.warnings.map((w) => [key(w), w]));
  const newW = new Map(after.warnings.map((w) => [key(w), w]));
  for (const [k, w] of newW) if (!oldW.has(k)) add('opens', w.where, `warning added: ${w.code} (${w.message})`);
  for (const [k, w] of oldW) if (!newW.has(k)) add('closes', w.where, `warning removed: ${w.code}`);

  const changes = out.sort((a, b) => cmp(a.where, b.where) || cmp(a.effect, b.effect) || cmp(a.what, b.what));
  return { version: REPORT_VERSION, opens: count(changes, 'opens'), closes: count(changes, 'closes'), changes };
}

export function renderDiff(d: PolicyDiff, format: 'table' | 'markdown'): string {
  const sign = { opens: '+', closes: '-', changes: '~' } as const;
  const summary = `${d.opens} opening, ${d.closes} closing, ${d.changes.length - d.opens - d.closes} other change(s)`;
  if (format === 'markdown') {
    const rows = d.changes.map((c) => `| ${c.effect} | ${c.where} | ${c.what.replace(/\|/g, '\\|')} |`);
    return [`## Access policy diff`, '', summary, '', ...(rows.length ? ['| effect | where | change |', '|---|---|---|', ...rows] : ['No change.']), ''].join('\n');
  }
  return [summary, ...d.changes.map((c) => `${sign[c.effect]} ${c.effect.padEnd(7)} ${c.where}: ${c.what}`), ''].join('\n');
}

type Add = (effect: Effect, where: string, what: string) => void;

function routeDiff(o: RouteReport, n: RouteReport, add: Add): void {
  const where = `route:${n.name}`;
  if (o.order !== n.order) add('changes', where, `moved from position ${o.order} to ${n.order} (first match wins)`);
  widening('host', o.hosts, n.hosts, where, add);
  widening('method', o.methods, n.methods, where, add);
  if (o.path !== n.path) {
    const narrower = covers(o.path, n.path);
    add(narrower ? 'closes' : 'opens', where, `path ${o.path} → ${n.path}${narrower ? ' (narrowed)' : covers(n.path, o.path) ? ' (widened)' : ''}`);
  }
  // allowCidrs: [] admits every address; a new entry admits more, unless the list was empty.
  if (o.network.allow.length > 0 && n.network.allow.length === 0) add('opens', where, 'allowCidrs removed: every address admitted');
  else if (o.network.allow.length === 0 && n.network.allow.length > 0) add('closes', where, `allowCidrs set: ${n.network.allow.join(' ')}`);
  else setDiff(o.network.allow, n.network.allow, (x) => add('opens', where, `allowCidrs + ${x}`), (x) => add('closes', where, `allowCidrs - ${x}`));
  setDiff(o.network.deny, n.network.deny, (x) => add('closes', where, `denyCidrs + ${x}`), (x) => add('opens', where, `denyCidrs - ${x}`));
  authDiff(o, n, where, add);
  rateDiff(o, n, where, add);
  if (WAF_RANK[n.waf.mode] < WAF_RANK[o.waf.mode]) add('opens', where, `WAF ${o.waf.mode} → ${n.waf.mode}`);
  if (WAF_RANK[n.waf.mode] > WAF_RANK[o.waf.mode]) add('closes', where, `WAF ${o.waf.mode} → ${n.waf.mode}`);
  setDiff(o.waf.exclusions, n.waf.exclusions, (x) => add('opens', where, `WAF exclusion added: ${x}`), (x) => add('closes', where, `WAF exclusion removed: ${x}`));
  if (JSON.stringify(o.identityHeaders) !== JSON.stringify(n.identityHeaders)) add('changes', where, 'identity headers changed');
  if (o.forwardAuthorization !== n.forwardAuthorization) add(n.forwardAuthorization ? 'opens' : 'closes', where, `forwardAuthorization ${o.forwardAuthorization} → ${n.forwardAuthorization}`);
  if (o.upstream.join(' ') !== n.upstream.join(' ')) add('changes', where, `upstream ${o.upstream.join(' ') || '(none)'} → ${n.upstream.join(' ') || '(none)'}`);
}

function authDiff(o: RouteReport, n: RouteReport, where: string, add: Add): void {
  const a = o.auth;
  const b = n.auth;
  if (a.mode !== b.mode) {
    add(b.mode === 'none' ? 'opens' : 'closes', where, `auth ${a.mode === 'none' ? 'none' : 'token'} → ${b.mode === 'none' ? 'none (anonymous)' : authText(n)}`);
    return;
  }
  if (a.mode === 'none') return;
  widening('provider', a.providers, b.providers, where, add);
  // Requirements: one removed lets more tokens through, one added fewer.
  setDiff(a.scopes, b.scopes, (x) => add('closes', where, `scope ${x} required`), (x) => add('opens', where, `scope ${x} no longer required`));
  setDiff(a.roles, b.roles, (x) => add('closes', where, `role ${x} required`), (x) => add('opens', where, `role ${x} no longer required`));
  for (const k of new Set([...Object.keys(a.claims), ...Object.keys(b.claims)])) {
    if (!(k in b.claims)) add('opens', where, `claim ${k} no longer required`);
    else if (!(k in a.claims)) add('closes', where, `claim ${k}=${String(b.claims[k])} required`);
    else if (a.claims[k] !== b.claims[k]) add('opens', where, `claim ${k} ${String(a.claims[k])} → ${String(b.claims[k])} (other tokens admitted)`);
  }
  if (a.clientCert !== null && b.clientCert === null) add('opens', where, 'client certificate no longer required');
  else if (a.clientCert === null && b.clientCert !== null) add('closes', where, 'client certificate required');
  else if (JSON.stringify(a.clientCert) !== JSON.stringify(b.clientCert)) add('opens', where, 'accepted client certificates changed');
  if (a.login !== b.login) add('changes', where, `sign-in ${a.login ?? '(none)'} → ${b.login ?? '(none)'}`);
}

function rateDiff(o: RouteReport, n: RouteReport, where: string, add: Add): void {
  const a = o.rateLimit;
  const b = n.rateLimit;
  if (a === null && b === null) return;
  if (b === null) return add('opens', where, `rate limit ${a!.policy} removed`);
  if (a === null) return add('closes', where, `rate limit ${b.policy} added`);
  if (b.capacity > a.capacity || b.refillPerSecond > a.refillPerSecond) add('opens', where, `rate limit raised: ${a.capacity} @ ${a.refillPerSecond}/s → ${b.capacity} @ ${b.refillPerSecond}/s`);
  else if (b.capacity < a.capacity || b.refillPerSecond < a.refillPerSecond) add('closes', where, `rate limit lowered: ${a.capacity} @ ${a.refillPerSecond}/s → ${b.capacity} @ ${b.refillPerSecond}/s`);
  if (a.key !== b.key) add('changes', where, `rate-limit key ${a.key} → ${b.key}`);
}

function listenerDiff(o: ListenerReport, n: ListenerReport, add: Add): void {
  const where = `listener:${n.name}`;
  if (o.host !== n.host || o.port !== n.port) add(n.exposed && !o.exposed ? 'opens' : 'changes', where, `address ${o.host}:${o.port} → ${n.host}:${n.port}`);
  if (o.tls && !n.tls) add('opens', where, 'TLS turned off');
  if (!o.tls && n.tls) add('closes', where, 'TLS turned on');
  if (o.clientCert !== n.clientCert) add(rankCert(n.clientCert) < rankCert(o.clientCert) ? 'opens' : 'closes', where, `client certificate ${o.clientCert} → ${n.clientCert}`);
}

function rankCert(c: ListenerReport['clientCert']): number {
  return c === 'required' ? 2 : c === 'optional' ? 1 : 0;
}

function providerDiff(o: ProviderReport, n: ProviderReport, add: Add): void {
  const where = `provider:${n.name}`;
  if (o.issuer !== n.issuer) add('opens', where, `issuer ${o.issuer} → ${n.issuer}`);
  setDiff(o.algorithms, n.algorithms, (x) => add('opens', where, `algorithm ${x} accepted`), (x) => add('closes', where, `algorithm ${x} no longer accepted`));
  if (o.audiences.length > 0 && n.audiences.length === 0) add('opens', where, 'audiences removed: any audience accepted');
  else setDiff(o.audiences, n.audiences, (x) => add(o.audiences.length === 0 ? 'closes' : 'opens', where, `audience ${x} accepted`), (x) => add('closes', where, `audience ${x} no longer accepted`));
  if (o.keys !== n.keys) add('changes', where, `keys from ${o.keys} → ${n.keys}`);
}

/** Hosts, methods, providers: ['*'] is every value; a new value admits more, a removed one less. */
function widening(label: string, o: readonly string[], n: readonly string[], where: string, add: Add): void {
  const any = (x: readonly string[]) => x.length === 1 && x[0] === '*';
  if (any(o) && any(n)) return;
  if (any(n)) return add('opens', where, `${label}s widened: ${o.join(' ')} → any`);
  if (any(o)) return add('closes', where, `${label}s narrowed: any → ${n.join(' ')}`);
  setDiff(o, n, (x) => add('opens', where, `${label} ${x} added`), (x) => add('closes', where, `${label} ${x} removed`));
}

/** Whether the route path `outer` matches every request `inner` matches (prefixes on segment boundaries, `= /x` exact). */
function covers(outer: string, inner: string): boolean {
  if (outer.startsWith('= ')) return outer === inner;
  const i = inner.startsWith('= ') ? inner.slice(2) : inner;
  return outer === '/' || i === outer || i.startsWith(outer.endsWith('/') ? outer : outer + '/');
}

function setDiff(o: readonly string[], n: readonly string[], added: (x: string) => void, removed: (x: string) => void): void {
  const a = new Set(o);
  const b = new Set(n);
  for (const x of b) if (!a.has(x)) added(x);
  for (const x of a) if (!b.has(x)) removed(x);
}

function pairs<T extends { name: string }>(o: readonly T[], n: readonly T[], added: (x: T) => void, removed: (x: T) => void, both: (a: T, b: T) => void): void {
  const old = new Map(o.map((x) => [x.name, x]));
  const neu = new Map(n.map((x) => [x.name, x]));
  for (const [k, x] of neu) {
    const prev = old.get(k);
    if (prev === undefined) added(x);
    else both(prev, x);
  }
  for (const [k, x] of old) if (!neu.has(k)) removed(x);
}

function count(changes: readonly Change[], effect: Effect): number {
  return changes.filter((c) => c.effect === effect).length;
}
