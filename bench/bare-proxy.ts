// A reference row (the baseline of issue 8): the same bare proxy as bare-proxy-stream.ts, but
// with pool.request() + stream.pipeline — the first thing a Node user writes, and about twice
// the CPU per request of Pool#stream. Kept so that older figures can be related to the baseline.
//
//   node dist/bench/bare-proxy.js <upstream-origin> [port]    prints "LISTENING <port>" once ready
import { createServer, type OutgoingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { listenAndAnnounce } from './child-io.js';
import { endToEnd, proxyArgs } from './bare-proxy-common.js';

const { origin, port } = proxyArgs('bare-proxy');

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

listenAndAnnounce(server, port, 'bare-proxy');
