// A local OTLP/HTTP trace receiver for the tracing rows (tracing-rows.ts): accepts
// `POST /v1/traces` (JSON encoding), counts the spans and answers 200 `{}` as a collector does;
// `GET /stats` returns the counts so far. It decodes nothing beyond counting, so that its own CPU,
// which competes for the same cores as the gateway, stays small.
//
//   node dist/bench/otlp-receiver.js [port]      prints "LISTENING <port>" once ready
//
// Its own process, like the upstream: its CPU time is not charged to the gateway under test.
import { createServer } from 'node:http';
import { listenAndAnnounce, parsePortArg } from './child-io.js';

/** Every span of the JSON encoding has exactly one `"spanId":` key (links would add more; ours have none). */
const SPAN_KEY = Buffer.from('"spanId":');
const OK = Buffer.from('{}');

const port = parsePortArg(process.argv[2], 'otlp-receiver');
const stats = { posts: 0, spans: 0, bytes: 0 };

function countSpans(body: Buffer): number {
  let n = 0;
  for (let at = body.indexOf(SPAN_KEY); at !== -1; at = body.indexOf(SPAN_KEY, at + SPAN_KEY.length)) n++;
  return n;
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.writeHead(404).end();
      return;
    }
    const body = Buffer.concat(chunks);
    stats.posts++;
    stats.bytes += body.length;
    stats.spans += countSpans(body);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(OK.length) }).end(OK);
  });
  req.on('error', () => res.destroy());
});
server.keepAliveTimeout = 60_000;

listenAndAnnounce(server, port, 'otlp-receiver');
