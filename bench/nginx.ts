// Real NGINX running the SHIPPED config/nginx/nginx.conf, with only its three addresses replaced:
// where it listens, where Portcullis's auth listener is, where the backend is. Used by the
// forward-auth bench row and by the tests (test/helpers/nginx.ts), so both run the file users get.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// bench/nginx.ts (tests) sits one level below the package root, dist/bench/nginx.js (the bench) two.
const CANDIDATES = ['../config/nginx/nginx.conf', '../../config/nginx/nginx.conf'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
export const SHIPPED_NGINX_CONF = CANDIDATES.find((p) => existsSync(p)) ?? CANDIDATES[0]!;

/** The addresses as written in the shipped file; each must appear exactly once there. */
const SHIPPED = { listen: '127.0.0.1:8000', auth: '127.0.0.1:8081', backend: '127.0.0.1:8070' } as const;

export interface NginxPorts {
  listen: number;
  auth: number;
  backend: number;
}

/** The nginx binary: on PATH, or where Debian puts it (/usr/sbin is not on every PATH); null when absent. */
export function findNginx(): string | null {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'];
  for (const dir of dirs) {
    if (dir !== '' && existsSync(join(dir, 'nginx'))) return join(dir, 'nginx');
  }
  return null;
}

/** The shipped file (nginx.conf, or another of config/nginx) with its addresses replaced; throws when it no longer has exactly one of each. */
export async function shippedNginxConf(ports: NginxPorts, file = SHIPPED_NGINX_CONF): Promise<string> {
  let text = await readFile(file, 'utf8');
  for (const key of ['listen', 'auth', 'backend'] as const) {
    const parts = text.split(SHIPPED[key]);
    if (parts.length !== 2) throw new Error(`config/nginx/nginx.conf must contain ${SHIPPED[key]} exactly once (found ${parts.length - 1})`);
    text = parts.join(`127.0.0.1:${ports[key]}`);
  }
  return text;
}

/**
 * Arguments for a foreground nginx with its own prefix (the *_temp directories and the auth cache
 * land there), pid file and error log. Run as root, its workers would drop to `nobody`, which
 * cannot enter a 0700 temporary prefix: they stay root then.
 */
export function nginxArgs(prefix: string, conf: string): string[] {
  const user = process.getuid?.() === 0 ? ' user root;' : '';
  return ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log'), '-g', `daemon off; pid ${join(prefix, 'nginx.pid')};${user}`];
}
