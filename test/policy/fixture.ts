/**
 * Real config files for the policy tests: a safe base config (no warning fires on it) written to
 * a temporary directory, and twins of it with one change each. JSON is valid YAML, so the files
 * are the JSON text of the document; loadConfigFile reads them as `portcullis policy` would.
 */
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEV_JWKS = resolve(fileURLToPath(import.meta.url), '../../../config/dev-jwks.json');

export type Doc = Record<string, unknown> & {
  server: Record<string, unknown>;
  listeners: Record<string, Record<string, unknown>>;
  auth: { providers: Record<string, unknown>[] } & Record<string, unknown>;
  routes: (Record<string, unknown> & { match: Record<string, unknown> })[];
};

export interface ConfigDir {
  /** The safe base document (a fresh copy per call). */
  base(): Doc;
  /** Writes `doc` as `<name>.yaml` and returns its path. */
  write(name: string, doc: unknown): Promise<string>;
  readonly devJwks: string;
  close(): Promise<void>;
}

export async function configDir(): Promise<ConfigDir> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-policy-'));
  // The same public keys under another name and issuer: a provider of one's own, not the dev key.
  const keys = join(dir, 'corp-jwks.json');
  await copyFile(DEV_JWKS, keys);
  const base = (): Doc => ({
    server: { trustedProxies: ['10.1.2.0/24'] },
    listeners: {
      http: { host: '127.0.0.1', port: 8080 },
      admin: { host: '127.0.0.1', port: 9090 },
    },
    auth: { providers: [{ name: 'corp', issuer: 'https://idp.example.com', jwksFile: keys, algorithms: ['ES256'], audiences: ['orders'] }] },
    rateLimits: { policies: { 'per-ip': { key: 'ip', capacity: 100, refillPerSecond: 50 }, 'per-user': { key: 'sub', capacity: 20, refillPerSecond: 10 } } },
    routes: [
      { name: 'public', match: { path: '/public', methods: ['GET'] }, auth: 'none', rateLimit: 'per-ip', upstream: 'http://127.0.0.1:8070' },
      { name: 'api', match: { path: '/api', methods: ['GET', 'POST'] }, auth: { scopes: ['orders:read'] }, rateLimit: 'per-user', identityHeaders: { 'X-User-Id': 'sub' }, upstream: 'http://127.0.0.1:8070' },
    ],
  });
  return {
    base,
    write: async (name, doc) => {
      const path = join(dir, `${name}.yaml`);
      await writeFile(path, JSON.stringify(doc, null, 2));
      return path;
    },
    devJwks: DEV_JWKS,
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
