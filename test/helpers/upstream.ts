/**
 * A real upstream on 127.0.0.1 that records what it receives and answers
 * what the test asks for. Tests assert on `received`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  bodyBytes: number;
  body: string;
  rawTrailers: string[];
  /** The request closed before its body was complete (the gateway aborted it). */
  aborted: boolean;
}

export type UpstreamBehaviour = (req: IncomingMessage, res: ServerResponse, rec: Received) => void;

export interface RecordingUpstream {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  readonly received: Received[];
  close(): Promise<void>;
}

const defaultBehaviour: UpstreamBehaviour = (_req, res, rec) => {
  const body = JSON.stringify({ ok: true, url: rec.url });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

/** Keeps at most `keepBody` bytes of each body as text; counts the rest. */
export async function startUpstream(behaviour: UpstreamBehaviour = defaultBehaviour, keepBody = 64 * 1024): Promise<RecordingUpstream> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const rec: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, bodyBytes: 0, body: '', rawTrailers: [], aborted: false };
    received.push(rec);
    req.on('close', () => { if (!req.complete) rec.aborted = true; });
    const kept: Buffer[] = [];
    let keptBytes = 0;
    req.on('data', (chunk: Buffer) => {
      rec.bodyBytes += chunk.length;
      if (keptBytes < keepBody) {
        kept.push(chunk);
        keptBytes += chunk.length;
      }
    });
    req.on('end', () => {
      rec.rawTrailers = req.rawTrailers;
      rec.body = Buffer.concat(kept).toString('utf8').slice(0, keepBody);
      behaviour(req, res, rec);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    received,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
