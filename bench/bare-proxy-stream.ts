// A stronger bare proxy than the baseline, as a reference row: the same node:http server and
// undici Pool, but forwarding with Pool#stream, which writes the upstream's body straight into
// the client response instead of going through a Readable and stream.pipeline — the API undici
// documents as its fastest, and close to how Portcullis forwards (a dispatch handler). The
// baseline stays what it is (every ratio is against it); this row shows how much of the
// passthrough's lead over it comes from the forwarding API alone (docs/performance.md).
//
//   node dist/bench/bare-proxy-stream.js <upstream-origin> [port]    prints "LISTENING <port>"
import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { exitWhenParentGoes, parsePortArg } from './child-io.js';

// RFC 9110 §7.6.1 hop-by-hop fields (plus the non-standard proxy-connection), and host,
// which the Pool sets from the upstream origin.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'host',
]);

function endToEnd(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

const origin = process.argv[2];
if (origin === undefined || !/^https?:\/\//.test(origin)) {
  console.error('usage: bare-proxy-stream <upstream-origin e.g. http://127.0.0.1:3000> [port]');
  process.exit(2);
}
const port = parsePortArg(process.argv[3], 'bare-proxy-stream');

const pool = new Pool(origin, { connections: 128, pipelining: 1 });

const server = createServer((req, res) => {
  const method = req.method ?? 'GET';
  pool.stream(
    {
      method: method as Dispatcher.HttpMethod,
      path: req.url ?? '/',
      headers: endToEnd(req.headers),
      body: method === 'GET' || method === 'HEAD' ? null : req,
      opaque: res,
    },
    ({ statusCode, headers, opaque }) => {
      const out = opaque as ServerResponse;
      out.writeHead(statusCode, endToEnd(headers) as OutgoingHttpHeaders);
      return out;
    },
  ).catch(() => {
    if (res.headersSent) {
      res.destroy();
    } else {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('bad gateway\n');
    }
  });
});

server.on('error', (err) => {
  console.error(`bare-proxy-stream: ${err.message}`);
  process.exit(1);
});

server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('bare-proxy-stream: unexpected listen address');
  process.stdout.write(`LISTENING ${addr.port}\n`);
});

exitWhenParentGoes();
