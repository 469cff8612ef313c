/**
 * Semantic rules of identity tokens the JSON Schema cannot express (STYLE §4, second pass): each
 * key loads and fits its alg, kids are unique, `current` is one of them, a route's identityToken
 * has the top-level block, its claims do not overwrite what the gateway sets, its header is not
 * one the gateway or HTTP framing owns. Reads the document defensively, as config/semantic.ts.
 */
import type { PathSegment } from '../config/messages.js';
import { loadSigningKey, type SigningKeyConfig } from './keys.js';
import { RESERVED_IDENTITY_CLAIMS } from './schema.js';

type Obj = Record<string, unknown>;
type Report = (path: readonly PathSegment[], message: string) => void;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Headers a token must not be written over: framing, routing, credentials and what the gateway sets. */
const FORBIDDEN_HEADERS = new Set([
  'host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'te', 'upgrade', 'cookie', 'authorization',
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'traceparent',
]);
/** Path segments that would walk into an object's prototype when the claim is rebuilt. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

export function checkIdentityTokenConfig(doc: Obj, report: Report): void {
  const top = isObj(doc.identityTokens) ? doc.identityTokens : null;
  if (top !== null) checkKeys(top, report);
  list(doc.routes).forEach((r, i) => {
    if (!isObj(r) || !isObj(r.identityToken)) return;
    const at = (...rest: PathSegment[]) => ['routes', i, 'identityToken', ...rest];
    if (top === null) report(at(), 'needs the top-level identityTokens block (issuer and signing keys)');
    const header = r.identityToken.header;
    if (typeof header === 'string' && FORBIDDEN_HEADERS.has(header.toLowerCase())) report(at('header'), `must not be ${header}: the gateway or HTTP owns it`);
    list(r.identityToken.claims).forEach((c, j) => {
      if (typeof c !== 'string') return;
      const first = c.split('.')[0]!;
      if (RESERVED_IDENTITY_CLAIMS.has(first)) report(at('claims', j), `"${first}" is set by the gateway (the caller's issuer is in idp)`);
      else if (c.split('.').some((s) => PROTOTYPE_KEYS.has(s))) report(at('claims', j), 'must not name __proto__, prototype or constructor');
    });
  });
}

function checkKeys(top: Obj, report: Report): void {
  const kids = new Map<string, number>();
  list(top.keys).forEach((k, i) => {
    if (!isObj(k) || typeof k.kid !== 'string' || (k.alg !== 'ES256' && k.alg !== 'EdDSA')) return;
    const first = kids.get(k.kid);
    if (first !== undefined) report(['identityTokens', 'keys', i, 'kid'], `duplicate kid "${k.kid}" (also identityTokens.keys[${first}])`);
    else kids.set(k.kid, i);
    const loaded = loadSigningKey(k as unknown as SigningKeyConfig);
    if (typeof loaded === 'string') {
      const key = k.pem !== undefined && k.file === undefined ? 'pem' : k.file !== undefined && k.pem === undefined ? 'file' : null;
      report(key === null ? ['identityTokens', 'keys', i] : ['identityTokens', 'keys', i, key], loaded);
    }
  });
  if (typeof top.current === 'string' && list(top.keys).length > 0 && !kids.has(top.current)) {
    report(['identityTokens', 'current'], `"${top.current}" is not the kid of any identityTokens.keys entry`);
  }
}
