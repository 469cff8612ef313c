/**
 * Enforces `server.limits.maxBodyBytes` on request bodies whose length is
 * not declared up front (chunked). A declared Content-Length over the limit
 * is refused before anything is sent; Node's parser already holds a declared
 * length to its word, so only chunked bodies pass through this counter.
 */
import { Transform, type TransformCallback } from 'node:stream';

export class BodyTooLargeError extends Error {
  readonly code = 'PORTCULLIS_ERR_BODY_TOO_LARGE';
  constructor(limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

export class BodyLimit extends Transform {
  readonly #limit: number;
  bytes = 0;

  constructor(limit: number) {
    super();
    this.#limit = limit;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.#limit) cb(new BodyTooLargeError(this.#limit));
    else cb(null, chunk);
  }
}
