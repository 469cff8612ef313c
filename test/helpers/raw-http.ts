/**
 * Raw-socket HTTP for framing tests: sends bytes exactly as written and
 * returns everything the server answered until it closed or went quiet.
 * rawRequest speaks plain TCP; rawTlsRequest the same over TLS (HTTP/1.1 by ALPN).
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface RawResponse {
  readonly text: string;
  readonly status: number | null;
}

export function rawRequest(port: number, payload: string | Buffer, quietMs = 300, host = '127.0.0.1'): Promise<RawResponse> {
  return collect(connect(port, host), 'connect', payload, quietMs);
}

export interface RawTlsOptions {
  /** The CA bundle (PEM) the server's certificate is verified against. */
  readonly ca: string | Buffer;
  /** SNI name, also the name verified. */
  readonly servername?: string;
  /**
   * How long a silence ends the answer. Give a timeout test more than the server's limit, so the
   * answer ends when the server closes (a test that times the close then measures the server).
   */
  readonly quietMs?: number;
}

export function rawTlsRequest(port: number, payload: string | Buffer, opts: RawTlsOptions): Promise<RawResponse> {
  const socket = tlsConnect({ host: '127.0.0.1', port, servername: opts.servername ?? 'localhost', ca: opts.ca, ALPNProtocols: ['http/1.1'] });
  return collect(socket, 'secureConnect', payload, opts.quietMs ?? 300);
}

/** Writes `payload` once `ready` fired; resolves at close, end or `quietMs` without data. */
function collect(socket: Socket, ready: 'connect' | 'secureConnect', payload: string | Buffer, quietMs: number): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ text, status: m ? Number(m[1]) : null });
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(finish, quietMs);
    };
    socket.on(ready, () => { socket.write(payload); arm(); });
    socket.on('data', (c: Buffer) => { chunks.push(c); arm(); });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (err) => { clearTimeout(timer); if (chunks.length) finish(); else reject(err); });
  });
}

/** Every status line in the bytes answered, pipelined ones included (a body without CRLF runs straight into the next). */
export function statusLines(text: string): string[] {
  return text.match(/HTTP\/1\.[01] \d{3}/g) ?? [];
}
