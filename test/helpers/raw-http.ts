/**
 * Raw-socket HTTP for framing tests: sends bytes exactly as written and
 * returns everything the server answered until it closed or went quiet.
 */
import { connect } from 'node:net';

export interface RawResponse {
  readonly text: string;
  readonly status: number | null;
}

export function rawRequest(port: number, payload: string | Buffer, quietMs = 300, host = '127.0.0.1'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
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
    socket.on('connect', () => { socket.write(payload); arm(); });
    socket.on('data', (c: Buffer) => { chunks.push(c); arm(); });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (err) => { clearTimeout(timer); if (chunks.length) finish(); else reject(err); });
  });
}
