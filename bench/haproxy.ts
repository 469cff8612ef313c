// Real HAProxy running the SHIPPED config/haproxy/haproxy.cfg and portcullis-auth.lua, with only
// its three addresses replaced (where it listens, where Portcullis's auth listener is, where the
// backend is) and the Lua file named by absolute path, so HAProxy may run from any directory.
// Used by the HAProxy bench row and by the tests (test/helpers/haproxy.ts): both run the files users get.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// bench/haproxy.ts (tests) sits one level below the package root, dist/bench/haproxy.js two.
const ROOTS = ['..', '../..'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
export const HAPROXY_ROOT = ROOTS.find((r) => existsSync(join(r, 'config/haproxy/haproxy.cfg'))) ?? ROOTS[0]!;
export const SHIPPED_HAPROXY_CFG = join(HAPROXY_ROOT, 'config/haproxy/haproxy.cfg');

/** The addresses and the Lua path as written in the shipped file; each must appear exactly once there. */
const SHIPPED = {
  listen: '127.0.0.1:8000', auth: '127.0.0.1:8081', backend: '127.0.0.1:8070', lua: 'lua-load config/haproxy/portcullis-auth.lua',
} as const;

export interface HaproxyPorts {
  listen: number;
  auth: number;
  backend: number;
}

/** The haproxy binary: on PATH or where Debian puts it; null when absent. */
export function findHaproxy(): string | null {
  for (const dir of [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']) {
    if (dir !== '' && existsSync(join(dir, 'haproxy'))) return join(dir, 'haproxy');
  }
  return null;
}

/** The shipped haproxy.cfg with its addresses replaced; throws when it no longer has exactly one of each. */
export async function shippedHaproxyCfg(ports: HaproxyPorts): Promise<string> {
  let text = await readFile(SHIPPED_HAPROXY_CFG, 'utf8');
  const into: Record<keyof typeof SHIPPED, string> = {
    listen: `127.0.0.1:${ports.listen}`, auth: `127.0.0.1:${ports.auth}`, backend: `127.0.0.1:${ports.backend}`,
    lua: `lua-load ${join(HAPROXY_ROOT, 'config/haproxy/portcullis-auth.lua')}`,
  };
  for (const key of ['listen', 'auth', 'backend', 'lua'] as const) {
    const parts = text.split(SHIPPED[key]);
    if (parts.length !== 2) throw new Error(`config/haproxy/haproxy.cfg must contain "${SHIPPED[key]}" exactly once (found ${parts.length - 1})`);
    text = parts.join(into[key]);
  }
  return text;
}
