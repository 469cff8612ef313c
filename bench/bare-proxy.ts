// The baseline: the reverse proxy a competent Node user writes in a few dozen lines with
// node:http and one undici Pool. No tricks — Portcullis passthrough is measured against it.
//
//   node dist/bench/bare-proxy.js <upstream-origin> [port]    prints "LISTENING <port>" once ready
import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { exitWhenParentGoes, parsePortArg } from './child-io.js';

// RFC 9110 §7.6.1 hop-by-hop fields (plus the non-standard proxy-connection), and host,
// which the Pool sets from the upstream origin.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'host',
]);

function endToEnd(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

const origin = process.argv[2];
if (origin === undefined || !/^https?:\/\//.test(origin)) {
  console.error('usage: bare-proxy <upstream-origin e.g. http://127.0.0.1:3000> [port]');
  process.exit(2);
}
const port = parsePortArg(process.argv[3], 'bare-proxy');

// One pool, keep-alive (undici's default), no pipelining.
const pool = new Pool(origin, { connections: 128, pipelining: 1 });

const server = createServer((req, res) => {
  const method = req.method ?? 'GET';
  pool.request({
    method: method as Dispatcher.HttpMethod,
    path: req.url ?? '/',
    headers: endToEnd(req.headers),
    body: method === 'GET' || method === 'HEAD' ? null : req,
  }).then(
    (up) => {
      res.writeHead(up.statusCode, endToEnd(up.headers) as OutgoingHttpHeaders);
      pipeline(up.body, res, (err) => {
        if (err) res.destroy();
      });
    },
    () => {
      if (res.headersSent) {
        res.destroy();
      } else {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('bad gateway\n');
      }
    },
  );
});

server.on('error', (err) => {
  console.error(`bare-proxy: ${err.message}`);
  process.exit(1);
});

server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('bare-proxy: unexpected listen address');
  process.stdout.write(`LISTENING ${addr.port}\n`);
});

exitWhenParentGoes();
