// ModSecurity itself as the reference for the CRS engine (issue 18): nginx with libmodsecurity 3
// (Debian: apt-get install libnginx-mod-http-modsecurity), Debian's recommended modsecurity.conf
// with SecRuleEngine On, then the same CRS setup, exclusion files and rules the engine loads. A
// corpus line is sent as raw HTTP/1.1 and answered with the status and the rule ids ModSecurity
// logged for it. Used by `node dist/bench/waf-crs-trace.js --modsec`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CrsLine } from './waf-eval-crs.js';

const MODULE = '/usr/lib/nginx/modules/ngx_http_modsecurity_module.so';
const RECOMMENDED = '/etc/nginx/modsecurity.conf';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export class ModsecOracle {
  readonly #dir: string;
  readonly #port: number;
  #logAt = 0;

  private constructor(dir: string, port: number) {
    this.#dir = dir;
    this.#port = port;
  }

  /** Starts nginx; null (with the reason printed) when nginx or the module is missing. */
  static async start(setup: string | null, exclusions: readonly string[], ruleFiles: readonly string[]): Promise<ModsecOracle | null> {
    if (!existsSync(MODULE) || !existsSync(RECOMMENDED)) {
      console.error(`--modsec needs nginx with libmodsecurity 3 (${MODULE}): apt-get install libnginx-mod-http-modsecurity`);
      return null;
    }
    const dir = mkdtempSync(join(tmpdir(), 'modsec-oracle-'));
    mkdirSync(join(dir, 'logs'));
    const [port, upstream] = [await freePort(), await freePort()];
    const recommended = readFileSync(RECOMMENDED, 'utf8')
      .replace(/^SecRuleEngine .*$/m, 'SecRuleEngine On')
      .replace(/^SecAuditEngine .*$/m, 'SecAuditEngine Off')
      .replace(/^SecResponseBodyAccess .*$/m, 'SecResponseBodyAccess Off')
      .replace(/^SecStatusEngine .*$/m, 'SecStatusEngine Off')
      .replace(/^SecUnicodeMapFile unicode\.mapping/m, 'SecUnicodeMapFile /etc/nginx/unicode.mapping')
      .replace(/^SecAuditLog .*$/m, `SecAuditLog ${join(dir, 'logs', 'audit.log')}`);
    writeFileSync(join(dir, 'modsec.conf'), recommended);
    const includes = [join(dir, 'modsec.conf'), ...(setup === null ? [] : [setup]), ...exclusions, ...ruleFiles];
    writeFileSync(join(dir, 'main.conf'), includes.map((f) => `Include ${f}\n`).join(''));
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((n) => `  ${n}_temp_path ${join(dir, n)};`).join('\n');
    writeFileSync(join(dir, 'nginx.conf'), `load_module ${MODULE};
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'logs', 'error.log')} info;
events { worker_connections 64; }
http {
  access_log off;
${temp}
  client_max_body_size 10m;
  large_client_header_buffers 4 32k;
  server { listen 127.0.0.1:${port}; modsecurity on; modsecurity_rules_file ${join(dir, 'main.conf')}; location / { proxy_pass http://127.0.0.1:${upstream}; } }
  server { listen 127.0.0.1:${upstream}; location / { return 200 "ok\\n"; } }
}
`);
    const r = spawnSync('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
    if (r.status !== 0) {
      console.error(`nginx did not start: ${r.stderr}`);
      rmSync(dir, { recursive: true, force: true });
      return null;
    }
    const oracle = new ModsecOracle(dir, port);
    oracle.#logAt = statSync(join(dir, 'logs', 'error.log')).size;
    return oracle;
  }

  /** Sends `line` as CRS's test would (its bytes as UTF-8, Content-Length added); status and logged rule ids. */
  async send(line: CrsLine): Promise<{ status: number; ids: number[] }> {
    const body = typeof line.body === 'string' ? Buffer.from(line.body, 'utf8') : Buffer.alloc(0);
    let head = `${line.method} ${line.uri} HTTP/1.1\r\n`;
    let framed = false;
    for (const [n, v] of line.headers) {
      if (/^(content-length|transfer-encoding)$/i.test(n)) framed = true;
      if (!/^connection$/i.test(n)) head += `${n}: ${v}\r\n`;
    }
    if (body.length > 0 && !framed) head += `Content-Length: ${body.length}\r\n`;
    head += 'Connection: close\r\n\r\n';
    const status = await new Promise<number>((resolve) => {
      const s = net.connect(this.#port, '127.0.0.1');
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString('latin1')));
      s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(out)?.[1] ?? 0)));
      s.on('error', () => resolve(-1));
      s.setTimeout(5000, () => s.destroy());
      s.write(Buffer.concat([Buffer.from(head, 'utf8'), body]));
    });
    await new Promise((r) => setTimeout(r, 20)); // the worker writes its log lines as the request ends
    return { status, ids: this.#newIds() };
  }

  #newIds(): number[] {
    const file = join(this.#dir, 'logs', 'error.log');
    const size = statSync(file).size;
    const buf = Buffer.alloc(size - this.#logAt);
    const fd = openSync(file, 'r');
    readSync(fd, buf, 0, buf.length, this.#logAt);
    closeSync(fd);
    this.#logAt = size;
    return [...new Set([...buf.toString('latin1').matchAll(/\[id "(\d+)"\]/g)].map((m) => Number(m[1])))];
  }

  /** Stops the nginx this started (by its pid file) and removes its directory. */
  async stop(): Promise<void> {
    const pidFile = join(this.#dir, 'nginx.pid');
    if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGQUIT');
    for (let i = 0; i < 100 && existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 20));
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
