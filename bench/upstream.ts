// Benchmark upstream: answers every request with the same small JSON body, so the
// proxies in front of it are what the benchmark measures.
//
//   node dist/bench/upstream.js [port]      prints "LISTENING <port>" once ready
//
// Runs in its own process so that its CPU time is not charged to the proxy under test.
import { createServer } from 'node:http';
import { listenAndAnnounce, parsePortArg } from './child-io.js';

// ~100 bytes, fixed, so every scenario moves the same bytes.
const BODY = Buffer.from(
  JSON.stringify({ ok: true, service: 'bench-upstream', note: 'fixed body for portcullis benchmarks', n: 42 }),
);
const HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };

const port = parsePortArg(process.argv[2], 'upstream');

const server = createServer((req, res) => {
  // Drain any request body before answering so keep-alive connections stay usable.
  req.on('end', () => {
    res.writeHead(200, HEADERS);
    res.end(BODY);
  });
  req.on('error', () => res.destroy());
  req.resume();
});
// Keep idle keep-alive connections open across the warm-up/measurement boundary.
server.keepAliveTimeout = 60_000;

listenAndAnnounce(server, port, 'upstream');
