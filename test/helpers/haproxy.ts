/**
 * Real HAProxy (the Debian package; .ci/run installs it) on 127.0.0.1, running the SHIPPED
 * config/haproxy/haproxy.cfg and its Lua action with only the three addresses replaced
 * (bench/haproxy.ts, shared with the bench row): where it listens, where Portcullis's auth
 * listener is, where the backend is. It runs in the foreground (-db) and is stopped by the test.
 */
import { findHaproxy, HAPROXY_ROOT, SHIPPED_HAPROXY_CFG, shippedHaproxyCfg } from '../../bench/haproxy.js';
import { startForegroundServer } from './foreground-server.js';

export { findHaproxy, SHIPPED_HAPROXY_CFG };
export const REPO_ROOT = HAPROXY_ROOT;

export interface TestHaproxy {
  readonly port: number;
  readonly url: string;
  /** What HAProxy wrote so far (its warnings, the Lua action's included). */
  output(): string;
  close(): Promise<void>;
}

export function startHaproxy(ports: { auth: number; backend: number }): Promise<TestHaproxy> {
  return startForegroundServer({
    name: 'haproxy',
    bin: findHaproxy(),
    install: 'apt-get install haproxy; .ci/run does it',
    configName: 'haproxy.cfg',
    config: (listen) => shippedHaproxyCfg({ listen, ...ports }),
    args: (_dir, cfg) => ['-db', '-f', cfg],
  });
}
