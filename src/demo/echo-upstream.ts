/**
 * The built-in demo upstream (`listeners.demo`): answers every request with
 * JSON describing what it received — method, path, headers and body size —
 * so the quick start can show what the gateway forwarded (identity headers,
 * X-Forwarded-*, the normalised path). Not for production traffic.
 */
import { createServer, type Server } from 'node:http';

export function createEchoUpstream(): Server {
  return createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => { bytes += chunk.length; });
    req.on('end', () => {
      const body = JSON.stringify({ upstream: 'portcullis-demo', method: req.method, url: req.url, headers: req.headers, bodyBytes: bytes }, null, 2) + '\n';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
}
