// The baseline (issue 17): the fastest bare reverse proxy a Node user writes in twenty lines —
// node:http and one undici Pool, forwarding with Pool#stream, which writes the upstream's body
// straight into the client response instead of going through a Readable and stream.pipeline (the
// API undici documents as its fastest). Every ratio the bench prints is against this process.
//
//   node dist/bench/bare-proxy-stream.js <upstream-origin> [port]    prints "LISTENING <port>"
import { createServer, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { listenAndAnnounce } from './child-io.js';
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

listenAndAnnounce(server, port, 'bare-proxy-stream');
