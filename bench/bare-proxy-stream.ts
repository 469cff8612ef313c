// A stronger bare proxy than the baseline, as a reference row: the same node:http server and
// undici Pool, but forwarding with Pool#stream, which writes the upstream's body straight into
// the client response instead of going through a Readable and stream.pipeline — the API undici
// documents as its fastest, and close to how Portcullis forwards (a dispatch handler). The
// baseline stays what it is (every ratio is against it); this row shows how much of the
// passthrough's lead over it comes from the forwarding API alone (docs/performance.md).
//
//   node dist/bench/bare-proxy-stream.js <upstream-origin> [port]    prints "LISTENING <port>"
import { createServer, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { exitWhenParentGoes } from './child-io.js';
import { endToEnd, proxyArgs } from './bare-proxy-common.js';

const { origin, port } = proxyArgs('bare-proxy-stream');

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
