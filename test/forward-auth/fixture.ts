/**
 * Portcullis in process with an `auth` listener on 127.0.0.1:0, from a config document — most
 * tests start from the shipped config/nginx/portcullis.yaml (the dev provider, the routes the
 * shipped nginx.conf expects) and change only what the case needs. Tokens are minted with the
 * dev key, as `portcullis token` does.
 */
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { parseConfigText } from '../../src/config/load.js';
import { mintDevToken, type DevTokenOptions } from '../../src/auth/dev-token.js';
import { eventually, startGateway, type TestGateway, waitForSigningKeys } from '../helpers/gateway.js';

export const SHIPPED_PORTCULLIS_YAML = resolve(fileURLToPath(import.meta.url), '../../../config/nginx/portcullis.yaml');

export type Doc = Record<string, unknown> & {
  server: Record<string, unknown>;
  listeners: Record<string, unknown>;
  rateLimits: { policies: Record<string, Record<string, unknown>> } & Record<string, unknown>;
  routes: Record<string, unknown>[];
};

/** config/nginx/portcullis.yaml, interpolated and validated as `portcullis serve` would, as a plain object to edit. */
export async function shippedDoc(): Promise<Doc> {
  const cfg = parseConfigText(await readFile(SHIPPED_PORTCULLIS_YAML, 'utf8'), SHIPPED_PORTCULLIS_YAML, {});
  return JSON.parse(JSON.stringify(cfg)) as Doc;
}

/**
 * The shipped doc with its `admin` route cacheable: only auth stages. The WAF (on by default)
 * makes a route's allows no-store, since the headers it inspects are not in the cache key.
 */
export async function shippedDocCacheableAdmin(): Promise<Doc> {
  const doc = await shippedDoc();
  doc.routes.find((r) => r['name'] === 'admin')!['waf'] = 'off';
  return doc;
}

/**
 * The shipped doc as the endpoint tests use it: 127.0.0.1 trusted as the asking proxy (or
 * nothing trusted), a per-user bucket of one token, and `routes` in front of the shipped ones.
 */
export async function endpointDoc(trusted: boolean, routes: Record<string, unknown>[]): Promise<Doc> {
  const d = await shippedDoc();
  d.server['trustedProxies'] = trusted ? ['127.0.0.1/32'] : [];
  d.rateLimits.policies['per-user'] = { key: 'sub', capacity: 1, refillPerSecond: 0.001 };
  d.routes.unshift(...structuredClone(routes));
  return d;
}

export interface AuthGateway {
  readonly gw: TestGateway;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts `doc` with only an auth listener, once its signing keys are loaded (unless `waitForKeys` is false). */
export async function startAuthGateway(
  doc: Record<string, unknown>, authListener: Record<string, unknown> = {}, waitForKeys = true,
): Promise<AuthGateway> {
  const gw = await startGateway({ ...doc, listeners: { auth: { host: '127.0.0.1', port: 0, ...authListener } } });
  const l = gw.runtime.listeners.find((x) => x.name === 'auth');
  if (l === undefined) throw new Error('no auth listener');
  const port = (l.server.address() as AddressInfo).port;
  const providers = ((doc['auth'] as { providers?: unknown[] } | undefined)?.providers ?? []).length;
  if (waitForKeys && providers > 0) await waitForSigningKeys(gw);
  return { gw, port, url: `http://127.0.0.1:${port}`, close: () => gw.close() };
}

export function token(sub = 'alice', opts: Omit<DevTokenOptions, 'sub'> = {}): Promise<string> {
  return mintDevToken({ sub, ...opts });
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export async function ask(url: string, headers: Record<string, string>, method = 'GET'): Promise<Answer> {
  const res = await request(url, { method: method as 'GET', headers });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

/** The access-log line of the request `requestId`, once it has arrived (log lines are written when the response closes). */
export async function accessLine(gw: TestGateway, requestId: unknown): Promise<Record<string, unknown> | undefined> {
  const find = () => gw.access().find((l) => l['requestId'] === requestId);
  await eventually(() => find() !== undefined);
  return find();
}
