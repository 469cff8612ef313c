/**
 * A request body that a stage may look into before it is forwarded (PRODUCT §1.10: the WAF
 * inspects up to `waf.inspectBodyBytes`). Nothing happens until a stage asks: a route without
 * body inspection forwards the IncomingMessage itself, as before. When a stage has read a
 * prefix, forwarding sends that prefix and then the rest of the stream — each byte read once,
 * the rest still pulled with backpressure, `maxBodyBytes` still counted over the whole body.
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { BodyAccess, BodyPrefix } from '../contract/types.js';

const EMPTY = Buffer.alloc(0);
const SKIPPED: BodyPrefix = Object.freeze({ bytes: EMPTY, complete: false, failed: false });
const FAILED: BodyPrefix = Object.freeze({ bytes: EMPTY, complete: false, failed: true });

export class RequestBody implements BodyAccess {
  readonly #req: IncomingMessage;
  readonly #maxBodyBytes: number;
  readonly declaredBytes: number | null;
  /** What a stage has consumed, in order; null while untouched. */
  #chunks: Buffer[] | null = null;
  #ended = false;
  #reading: Promise<BodyPrefix> | null = null;

  constructor(req: IncomingMessage, maxBodyBytes: number) {
    this.#req = req;
    this.#maxBodyBytes = maxBodyBytes;
    const cl = req.headers['content-length'];
    this.declaredBytes = cl !== undefined && req.headers['transfer-encoding'] === undefined ? Number(cl) : null;
  }

  readPrefix(maxBytes: number): Promise<BodyPrefix> {
    // A declared length over the limit is refused with 413 when forwarding: reading it is waste.
    if (this.declaredBytes !== null && this.declaredBytes > this.#maxBodyBytes) return Promise.resolve(SKIPPED);
    // One byte past maxBodyBytes is enough to know the body is over it (see #read).
    if (this.#reading === null) this.#reading = new Promise((resolve) => this.#read(Math.min(maxBytes, this.#maxBodyBytes + 1), resolve));
    return this.#reading;
  }

  #read(maxBytes: number, resolve: (p: BodyPrefix) => void): void {
    const req = this.#req;
    const chunks: Buffer[] = [];
    this.#chunks = chunks;
    let bytes = 0;
    const done = (failed: boolean): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (failed) return resolve(FAILED);
      // Over maxBodyBytes: forwarding answers 413 (the bytes read stay queued for it to count), as
      // for a declared length; inspecting the prefix would turn a size error into a WAF verdict.
      if (bytes > this.#maxBodyBytes) return resolve(SKIPPED);
      resolve({ bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes), complete: this.#ended, failed: false });
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      bytes += chunk.length;
      if (bytes >= maxBytes) {
        req.pause();
        done(false);
      }
    };
    const onEnd = (): void => {
      this.#ended = true;
      done(false);
    };
    const onError = (): void => done(true);
    const onClose = (): void => {
      if (!this.#ended) done(true);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  }

  /** What forwarding sends: the IncomingMessage itself, or what was read followed by the rest. */
  forwardStream(): Readable {
    if (this.#chunks === null) return this.#req;
    return new PrefixedBody(this.#chunks, this.#ended ? null : this.#req);
  }

  /** As forwardStream(), but the body itself when it was read whole. */
  forwardBody(): Readable | Buffer {
    const chunks = this.#chunks;
    if (chunks !== null && this.#ended) return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    return this.forwardStream();
  }
}

/** The chunks a stage read, then the rest of `rest` (null when the body had ended). */
class PrefixedBody extends Readable {
  #prefix: Buffer[] | null;
  readonly #rest: IncomingMessage | null;
  #listening = false;

  constructor(prefix: Buffer[], rest: IncomingMessage | null) {
    super();
    this.#prefix = prefix;
    this.#rest = rest;
  }

  override _read(): void {
    if (this.#prefix !== null) {
      for (const c of this.#prefix) this.push(c);
      this.#prefix = null;
      if (this.#rest === null) this.push(null);
    }
    const rest = this.#rest;
    if (rest === null) return;
    if (!this.#listening) {
      this.#listening = true;
      rest.on('data', this.#onData);
      rest.once('end', this.#onEnd);
      rest.once('error', this.#onError);
      rest.once('close', this.#onClose);
    }
    rest.resume();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (!this.push(chunk)) this.#rest!.pause();
  };

  readonly #onEnd = (): void => {
    this.push(null);
  };

  readonly #onError = (err: Error): void => {
    this.destroy(err);
  };

  /** A client that goes away mid-body must fail the upstream request, not end it short. */
  readonly #onClose = (): void => {
    if (!this.#rest!.complete) this.destroy(new Error('request body aborted'));
  };

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    const rest = this.#rest;
    if (rest !== null && this.#listening) {
      rest.off('data', this.#onData);
      rest.off('end', this.#onEnd);
      rest.off('error', this.#onError);
      rest.off('close', this.#onClose);
    }
    cb(err);
  }
}

/** A body already in memory (the eval script, unit tests): same contract, nothing to stream. */
export class BufferedBody implements BodyAccess {
  readonly declaredBytes: number;
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
    this.declaredBytes = bytes.length;
  }

  readPrefix(maxBytes: number): Promise<BodyPrefix> {
    const complete = this.#bytes.length <= maxBytes;
    return Promise.resolve({ bytes: complete ? this.#bytes : this.#bytes.subarray(0, maxBytes), complete, failed: false });
  }
}
