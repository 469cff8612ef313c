// What the two bare reference proxies (bare-proxy-stream.ts, the baseline; bare-proxy.ts, a reference) share:
// the end-to-end header filter a competent proxy applies, and their command line.
import type { IncomingHttpHeaders } from 'node:http';
import { parsePortArg } from './child-io.js';

// RFC 9110 §7.6.1 hop-by-hop fields (plus the non-standard proxy-connection), and host,
// which the Pool sets from the upstream origin.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'host',
]);

export function endToEnd(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/** `<upstream-origin> [port]` from argv, or a usage line and exit 2. */
export function proxyArgs(name: string): { origin: string; port: number } {
  const origin = process.argv[2];
  if (origin === undefined || !/^https?:\/\//.test(origin)) {
    console.error(`usage: ${name} <upstream-origin e.g. http://127.0.0.1:3000> [port]`);
    process.exit(2);
  }
  return { origin, port: parsePortArg(process.argv[3], name) };
}
