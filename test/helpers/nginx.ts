/**
 * Real NGINX (the Debian package; .ci/run installs it) on 127.0.0.1, running the SHIPPED
 * config/nginx/nginx.conf with only its three addresses replaced (bench/nginx.ts, shared with the
 * forward-auth bench row): where it listens, where Portcullis's auth listener is, and where the
 * backend is. It runs in the foreground with a temporary prefix, its own pid file and error log,
 * and is stopped by the test.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findNginx, nginxArgs, shippedNginxConf } from '../../bench/nginx.js';
import { startForegroundServer } from './foreground-server.js';

export { findNginx };

export interface TestNginx {
  readonly port: number;
  readonly url: string;
  /** What NGINX wrote to its error log so far. */
  errorLog(): Promise<string>;
  close(): Promise<void>;
}

/** The error log nginxArgs() points NGINX at; '' until NGINX has written it. */
const readErrorLog = async (prefix: string): Promise<string> => {
  const file = join(prefix, 'error.log');
  return existsSync(file) ? readFile(file, 'utf8') : '';
};

/**
 * `edit`: a change to the shipped text before it runs, such as the TLS snippet's include
 * (test/forward-auth/nginx-mtls.test.ts); it gets the temporary prefix for files of its own.
 * `confFile`: another shipped file of config/nginx than nginx.conf (sign-in.conf).
 */
export async function startNginx(
  ports: { auth: number; backend: number; listen?: number }, edit?: (text: string, prefix: string) => Promise<string>, confFile?: string,
): Promise<TestNginx> {
  const server = await startForegroundServer({
    name: 'nginx',
    bin: findNginx(),
    install: 'apt-get install nginx; .ci/run does it',
    configName: 'nginx.conf',
    ...(ports.listen === undefined ? {} : { port: ports.listen }),
    config: async (listen, prefix) => {
      const shipped = await shippedNginxConf({ listen, auth: ports.auth, backend: ports.backend }, confFile);
      return edit === undefined ? shipped : edit(shipped, prefix);
    },
    args: nginxArgs,
    readLog: readErrorLog,
    discardStdout: true,
  });
  return { port: server.port, url: server.url, errorLog: () => readErrorLog(server.dir), close: server.close };
}
