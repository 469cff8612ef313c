/**
 * Request bodies still being received, and the two bounds on them (issue 22):
 *
 * - `server.limits.requestTimeoutMs` as an absolute deadline on HTTP/2. Node enforces it for
 *   HTTP/1.1 itself (server.requestTimeout, listeners.ts); an HTTP/2 stream only has an idle
 *   timeout, which a body dripping a byte every few seconds never trips.
 * - `server.limits.minBodyBytesPerSec` on both protocols, after `minBodyRateGraceMs`: the
 *   average rate over the time the gateway was actually waiting for the client. As Kestrel's
 *   MinRequestBodyDataRate (which times reads only while the app is reading), time while the
 *   body is paused — the upstream applying backpressure, the request waiting for a pooled
 *   connection, the WAF inspecting a prefix — is not the client's and is not counted.
 *
 * Either way the answer is 408 `request_timeout` (or, once the response has started, the
 * connection or stream is cut, as Node does for HTTP/1.1) and the upstream request is aborted.
 *
 * The body is never read here: a `data` listener is added only once a consumer made the stream
 * flow (its `resume` event), so nothing is consumed early or lost, and `pause`/`resume` events
 * time the waiting. One sweep per listener checks every watched body, as Node's own
 * connectionsCheckingInterval does, so a request costs no timer of its own.
 */
import type { IncomingMessage } from 'node:http';
import { constants as h2, type Http2ServerResponse } from 'node:http2';
import type { Respond } from '../contract/types.js';
import type { Exchange } from '../pipeline/exchange.js';

/** How often bodies are checked: Node checks HTTP/1.1 request timeouts as often (listeners.ts). */
const SWEEP_MS = 1_000;
const REQUEST_TIMEOUT: Respond = Object.freeze({ kind: 'respond', status: 408, decision: 'bad_request', error: 'request_timeout' });
const kReceiving = Symbol('portcullis.receiving');

type TimedOut = 'deadline' | 'min_rate';

/** One body being received: what arrived, and for how long the gateway has been waiting for it. */
class Receiving {
  readonly x: Exchange;
  readonly http2: boolean;
  readonly startMs: number;
  bytes = 0;
  /** Time spent flowing (a consumer waiting for data) before the current flowing spell. */
  awaitedMs = 0;
  /** When the current flowing spell began; -1 while paused or not yet read. */
  flowingSinceMs = -1;
  counting = false;

  constructor(x: Exchange, http2: boolean, startMs: number) {
    this.x = x;
    this.http2 = http2;
    this.startMs = startMs;
  }

  awaited(now: number): number {
    return this.flowingSinceMs < 0 ? this.awaitedMs : this.awaitedMs + now - this.flowingSinceMs;
  }
}

export class BodyWatch {
  readonly #bodies = new Set<Receiving>();
  #timer: NodeJS.Timeout | null = null;

  /** Called by the edge for a request with a body, before any stage may read it. */
  watch(x: Exchange): void {
    const http2 = 'stream' in x.req;
    // HTTP/1.1's deadline is Node's: without a rate to check there is nothing left to do.
    if (!http2 && x.gateway.limits.minBodyBytesPerSec === 0) return;
    const r = new Receiving(x, http2, Date.now());
    (x.req as unknown as Record<symbol, Receiving>)[kReceiving] = r;
    x.req.on('resume', onBodyResume);
    x.req.on('pause', onBodyPause);
    this.#bodies.add(r);
    if (this.#timer === null) {
      this.#timer = setInterval(sweepBodies, SWEEP_MS, this);
      this.#timer.unref();
    }
  }

  sweep(): void {
    const now = Date.now();
    for (const r of this.#bodies) {
      const x = r.x;
      if (x.req.complete || x.req.destroyed || x.res.writableFinished || x.res.destroyed) {
        this.#bodies.delete(r);
        continue;
      }
      const why = timedOut(r, now);
      if (why === null) continue;
      this.#bodies.delete(r);
      cutOff(r, why, now);
    }
    if (this.#bodies.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }
}

function timedOut(r: Receiving, now: number): TimedOut | null {
  const limits = r.x.gateway.limits;
  if (r.http2 && now - r.startMs >= limits.requestTimeoutMs) return 'deadline';
  const minRate = limits.minBodyBytesPerSec;
  if (minRate === 0) return null;
  const awaited = r.awaited(now);
  return awaited > limits.minBodyRateGraceMs && r.bytes * 1000 < minRate * awaited ? 'min_rate' : null;
}

/** 408 while nothing was sent, else cut the stream or connection; either way give the upstream connection back. */
function cutOff(r: Receiving, why: TimedOut, now: number): void {
  const x = r.x;
  x.gateway.logger.info(
    { requestId: x.ctx.id, reason: why, bodyBytes: r.bytes, awaitedMs: r.awaited(now), elapsedMs: now - r.startMs },
    'request body timed out',
  );
  if (!x.res.headersSent) x.respond(REQUEST_TIMEOUT, true);
  else if (r.http2) (x.res as unknown as Http2ServerResponse).stream.close(h2.NGHTTP2_CANCEL);
  else x.req.socket.destroy();
  x.call?.abortFromClient();
}

function sweepBodies(watch: BodyWatch): void {
  watch.sweep();
}

function receivingOf(req: IncomingMessage): Receiving | undefined {
  return (req as unknown as Record<symbol, Receiving | undefined>)[kReceiving];
}

/**
 * A consumer made the body flow. Only now is a `data` listener safe: added earlier it would
 * start the flow itself, and chunks would reach it before the consumer that needs them.
 */
function onBodyResume(this: IncomingMessage): void {
  const r = receivingOf(this);
  if (r === undefined || this.readableFlowing !== true) return; // paused again before this event
  if (!r.counting) {
    r.counting = true;
    this.on('data', onBodyData);
  }
  if (r.flowingSinceMs < 0) r.flowingSinceMs = Date.now();
}

function onBodyPause(this: IncomingMessage): void {
  const r = receivingOf(this);
  if (r === undefined || r.flowingSinceMs < 0) return;
  r.awaitedMs += Date.now() - r.flowingSinceMs;
  r.flowingSinceMs = -1;
}

function onBodyData(this: IncomingMessage, chunk: Buffer): void {
  const r = receivingOf(this);
  if (r !== undefined) r.bytes += chunk.length;
}
