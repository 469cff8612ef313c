/**
 * A raw HTTP/2 client for abuse tests (issue 21): hand-written frames (RFC 9113 §4.1) and HPACK
 * blocks (RFC 7541) over node:tls, so a test can do what no well-behaved client library does —
 * reset every stream it opens, ignore SETTINGS_MAX_CONCURRENT_STREAMS, never finish a header
 * block, flood SETTINGS or PING, advertise a zero flow-control window, stop reading.
 *
 * It parses what the server sends only as far as a test asserts on it: GOAWAY (with its error
 * code), RST_STREAM, response HEADERS and the close of the connection.
 */
import { connect, type TLSSocket } from 'node:tls';

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
/** RFC 9113 §7 error codes. */
export const ERROR = { NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, FLOW_CONTROL_ERROR: 3, CANCEL: 8, ENHANCE_YOUR_CALM: 11 } as const;
/** RFC 9113 §6.5.2 setting identifiers. */
export const SETTING = { HEADER_TABLE_SIZE: 1, ENABLE_PUSH: 2, MAX_CONCURRENT_STREAMS: 3, INITIAL_WINDOW_SIZE: 4, MAX_FRAME_SIZE: 5 } as const;

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

export function settingsFrame(settings: Readonly<Record<number, number>> = {}): Buffer {
  const entries = Object.entries(settings);
  const payload = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(Number(id), i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return frame(FRAME.SETTINGS, 0, 0, payload);
}

export function rstFrame(streamId: number, code: number = ERROR.CANCEL): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code, 0);
  return frame(FRAME.RST_STREAM, 0, streamId, p);
}

export function pingFrame(data = 0): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(data >>> 0, 4);
  return frame(FRAME.PING, 0, 0, p);
}

/** RFC 7541 §5.1 integer with an N-bit prefix; `first` carries the pattern bits above the prefix. */
function hpackInt(value: number, prefixBits: number, first: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([first | value]);
  const out = [first | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

function hpackString(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  return Buffer.concat([hpackInt(bytes.length, 7, 0), bytes]); // no Huffman
}

/** HPACK blocks, literal (no Huffman) so a test controls every byte. */
export const hpack = {
  /** §6.2.2 literal header field without indexing, new name. */
  literal(name: string, value: string): Buffer {
    return Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)]);
  },
  /** §6.2.1 literal with incremental indexing: the field enters the dynamic table (index 62 when newest). */
  indexed(name: string, value: string): Buffer {
    return Buffer.concat([Buffer.from([0x40]), hpackString(name), hpackString(value)]);
  },
  /** §6.1 indexed header field: one or two bytes standing for a whole table entry. */
  ref(index: number): Buffer {
    return hpackInt(index, 7, 0x80);
  },
  /** A request's pseudo-header fields, all literal. */
  request(method: string, path: string, authority = 'localhost', extra: readonly Buffer[] = []): Buffer {
    return Buffer.concat([
      hpack.literal(':method', method), hpack.literal(':scheme', 'https'),
      hpack.literal(':path', path), hpack.literal(':authority', authority), ...extra,
    ]);
  },
};

export interface RawH2Options {
  readonly ca?: Buffer | string;
  /** Our SETTINGS (sent after the preface). */
  readonly settings?: Readonly<Record<number, number>>;
  /** ACK the server's SETTINGS (a well-behaved peer does; default true). */
  readonly ackSettings?: boolean;
}

export class RawH2 {
  readonly socket: TLSSocket;
  /** The GOAWAY error code received, or null. */
  goaway: number | null = null;
  /** The last stream id the GOAWAY said the server processed. */
  goawayLastStream = -1;
  resets = 0;
  responses = 0;
  bytesReceived = 0;
  closed = false;
  readonly closedAt: Promise<void>;
  #buf: Buffer = Buffer.alloc(0);
  #nextStream = 1;

  private constructor(socket: TLSSocket, opts: RawH2Options) {
    this.socket = socket;
    this.closedAt = new Promise((resolve) => socket.once('close', () => { this.closed = true; resolve(); }));
    socket.on('error', () => undefined);
    socket.on('data', (c: Buffer) => this.#read(c, opts.ackSettings !== false));
  }

  static async open(port: number, opts: RawH2Options = {}): Promise<RawH2> {
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: opts.ca, ALPNProtocols: ['h2'] }, () => {
        if (s.alpnProtocol !== 'h2') reject(new Error(`ALPN gave ${String(s.alpnProtocol)}, not h2`));
        else resolve(s);
      });
      s.once('error', reject);
    });
    const c = new RawH2(socket, opts);
    c.write(Buffer.concat([PREFACE, settingsFrame(opts.settings ?? {})]));
    return c;
  }

  /** A fresh client stream id (odd, increasing, RFC 9113 §5.1.1). */
  nextStreamId(): number {
    const id = this.#nextStream;
    this.#nextStream += 2;
    return id;
  }

  /** False when the socket is gone or its write buffer is full (the caller should slow down). */
  write(bytes: Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    return this.socket.write(bytes);
  }

  headers(streamId: number, block: Buffer, endStream = true, endHeaders = true): Buffer {
    return frame(FRAME.HEADERS, (endStream ? FLAG.END_STREAM : 0) | (endHeaders ? FLAG.END_HEADERS : 0), streamId, block);
  }

  /** Resolves once the socket's write buffer has room again, or the socket closed. */
  async drained(): Promise<void> {
    if (this.closed || !this.socket.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      const done = (): void => { this.socket.off('drain', done); this.socket.off('close', done); resolve(); };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  /** Waits (bounded) for the server to close the connection; true when it did. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    if (this.closed) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); });
    const closed = this.closedAt.then(() => true);
    const r = await Promise.race([closed, timeout]);
    clearTimeout(timer);
    return r;
  }

  destroy(): void {
    this.socket.destroy();
  }

  #read(chunk: Buffer, ackSettings: boolean): void {
    this.bytesReceived += chunk.length;
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    while (this.#buf.length >= 9) {
      const len = this.#buf.readUIntBE(0, 3);
      if (this.#buf.length < 9 + len) break;
      const type = this.#buf[3]!;
      const flags = this.#buf[4]!;
      const payload = this.#buf.subarray(9, 9 + len);
      this.#buf = this.#buf.subarray(9 + len);
      if (type === FRAME.GOAWAY && payload.length >= 8) {
        this.goawayLastStream = payload.readUInt32BE(0) & 0x7fffffff;
        this.goaway = payload.readUInt32BE(4);
      } else if (type === FRAME.RST_STREAM) this.resets++;
      else if (type === FRAME.HEADERS) this.responses++;
      else if (type === FRAME.SETTINGS && (flags & FLAG.ACK) === 0 && ackSettings) this.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
    }
  }
}
