// The HAProxy row (issue 19): the baseline's request sent to a real HAProxy running the shipped
// config/haproxy/haproxy.cfg and portcullis-auth.lua (addresses replaced), which asks Portcullis's
// /haproxy endpoint with core.httpclient and proxies allowed requests to the shared upstream —
// the HAProxy counterpart of "forward-auth through NGINX". CPU and RSS columns are Portcullis's
// only. Left out when haproxy is not installed.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Child, freePort } from './children.js';
import { behindProxy, frontProxyTarget } from './forward-auth-rows.js';
import { findHaproxy, shippedHaproxyCfg } from './haproxy.js';
import type { BenchEnv, Scenario, Target } from './row.js';

export function haproxyScenarios(): Scenario[] {
  const bin = findHaproxy();
  if (bin === null) {
    process.stderr.write('bench: haproxy is not installed; the "forward-auth through HAProxy" row is left out\n');
    return [];
  }
  return [behindProxy('forward-auth through HAProxy (Lua action)', 'forward-auth-haproxy', (env, pc) => startHaproxy(bin, env, pc))];
}

async function startHaproxy(bin: string, env: BenchEnv, pc: Target): Promise<Target> {
  const dir = await mkdtemp(join(env.workDir, 'haproxy-'));
  const listen = await freePort();
  const cfg = join(dir, 'haproxy.cfg');
  await writeFile(cfg, await shippedHaproxyCfg({ listen, auth: Number(new URL(pc.url).port), backend: Number(new URL(env.upstreamUrl).port) }));
  const child = new Child({ name: 'haproxy', command: bin, args: ['-db', '-q', '-f', cfg] });
  return frontProxyTarget(child, listen, pc, 'HAProxy', dir);
}
