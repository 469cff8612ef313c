/**
 * Forwarding one request to its upstream through undici's dispatch API.
 * One UpstreamCall per request is the undici handler itself (a class with
 * private fields, as undici's own handlers are): response headers go to the
 * client as soon as they arrive and body chunks stream with backpressure in
 * both directions, so a 1 GB body never sits in memory.
 *
 * Retries: only idempotent methods without a request body, only for errors
 * that prove no byte reached the upstream (connect phase), at most
 * `retries` times, preferring another target when there is one.
 */
import type { Dispatcher } from 'undici';
import type { ServerResponse } from 'node:http';
import type { Exchange, Abortable } from '../pipeline/exchange.js';
import type { CompiledRoute } from '../route/compiled-route.js';
import type { UpstreamTarget } from '../upstream/group.js';
import { stripPathPrefix } from '../route/match.js';
import { buildResponseHeaders } from './headers.js';
import { appendResponseHeaders } from '../contract/respond.js';
import { isConnectPhaseError, statusForUpstreamError, errorCode } from './errors.js';
import type { Readable } from 'node:stream';
import { traceUpstream } from './trace-upstream.js';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

class ClientClosedError extends Error {
  readonly code = 'PORTCULLIS_ERR_CLIENT_CLOSED';
}

const kCall = Symbol('portcullis.upstreamCall');

export class UpstreamCall implements Dispatcher.DispatchHandler, Abortable {
  readonly #x: Exchange;
  readonly #route: CompiledRoute;
  readonly #headers: string[];
  /** A Buffer when a stage read the whole body (the WAF), else the stream, or null. */
  readonly #body: Readable | Buffer | null;
  readonly #path: string;
  #target: UpstreamTarget | null = null;
  #controller: Dispatcher.DispatchController | null = null;
  #attempts = 0;
  #startNs = 0n;
  #done = false;
  /** Queue wait (dispatch → a connection) or a stalled client (paused on backpressure); see #arm. */
  #timer: NodeJS.Timeout | null = null;
  /** The upstream's Content-Length when it declared one, else -1: whether a chunk is the whole body. */
  #declaredLength = -1;
  /** A whole body that came in one chunk, written with the end of the response (onResponseEnd). */
  #wholeBody: Buffer | null = null;

  constructor(x: Exchange, route: CompiledRoute, headers: string[], body: Readable | Buffer | null) {
    this.#x = x;
    this.#route = route;
    this.#headers = headers;
    this.#body = body;
    const ctx = x.ctx;
    const path = stripPathPrefix(ctx.path, route.stripPrefix);
    this.#path = ctx.query === '' ? path : path + '?' + ctx.query;
    (x.res as unknown as Record<symbol, UpstreamCall>)[kCall] = this;
  }

  start(): void {
    // A client gone before its upstream request was sent gets none (issue 21).
    if (this.#x.ctx.clientGone) return;
    this.#x.call = this;
    const trace = this.#x.ctx.trace;
    if (trace !== null) this.#x.upstreamSpan = traceUpstream(trace, this.#x.ctx.method, this.#route.name, this.#headers);
    this.#dispatch(null);
  }

  #dispatch(avoid: UpstreamTarget | null): void {
    const target = this.#route.upstream.pick(avoid);
    const timeoutMs = this.#route.upstream.options.timeoutMs;
    this.#target = target;
    this.#attempts++;
    this.#x.upstreamSpan?.set('portcullis.upstream.target', target.url);
    this.#startNs = process.hrtime.bigint();
    this.#controller = null;
    try {
      // false = every connection is busy and the request waits in the pool's queue: only then
      // is a queue timer needed, so the common path allocates no timer.
      const options: Dispatcher.DispatchOptions & { servername?: string } = {
        path: target.basePath + this.#path,
        method: this.#x.ctx.method as Dispatcher.HttpMethod,
        headers: this.#headers,
        body: this.#body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        // https: a fixed TLS name, else undici takes it from the client's Host (upstream/tls.ts).
        servername: target.tls?.servername,
      };
      const free = target.pool.dispatch(options, this);
      if (!free && this.#controller === null) this.#arm(QUEUE_TIMEOUT);
    } catch (err) {
      // undici validates synchronously (e.g. a header value it refuses): a bug or bad input, never a crash.
      this.onResponseError(null, err as Error);
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    this.#disarm(); // on a connection now: undici's headersTimeout takes over
    if (this.#done) controller.abort(new ClientClosedError('client closed the connection'));
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx: Node already answered 100-continue to the client
    const x = this.#x;
    x.ctx.upstreamMs = Number(process.hrtime.bigint() - this.#startNs) / 1e6;
    this.#target!.reportSuccess();
    const res = x.res;
    if (res.destroyed) return;
    try {
      const out = buildResponseHeaders(headers, x.ctx.id);
      // The HTTPS listener's hsts, set on the response up front, is the policy: an upstream's own
      // would be a second STS field, which RFC 6797 §6.1 forbids (and writeHead would let it win).
      if (out['strict-transport-security'] !== undefined && res.hasHeader('strict-transport-security')) delete out['strict-transport-security'];
      appendResponseHeaders(out, x.ctx.responseHeaders); // e.g. RateLimit fields (issue 4)
      res.writeHead(statusCode, out);
      const length = headers['content-length'];
      this.#declaredLength = typeof length === 'string' ? Number(length) : -1;
    } catch (err) {
      // The upstream sent a header Node refuses to write: answer 502, never relay it.
      x.gateway.logUpstreamError(x, err, 'invalid upstream response header');
      this.#controller?.abort(err as Error);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const res = this.#x.res;
    const first = this.#x.bytesOut === 0;
    this.#x.bytesOut += chunk.length;
    // The whole declared body in one chunk (nearly every API response): its end follows in the same
    // parse, so it is held for res.end(chunk). res.write would cork the socket and uncork it on a
    // nextTick; end(chunk) writes headers and body in one writev without either (issue 17). A body
    // in several chunks, or of unknown length (a stream, SSE), is written as it comes.
    if (first && chunk.length === this.#declaredLength) {
      this.#wholeBody = chunk;
      return;
    }
    if (!res.write(chunk)) {
      controller.pause();
      res.once('drain', resumeOnDrain);
      this.#arm(CLIENT_STALLED);
    }
  }

  onResponseEnd(): void {
    this.#disarm();
    this.#done = true;
    const body = this.#wholeBody;
    if (body === null) {
      this.#x.res.end();
    } else {
      this.#wholeBody = null;
      this.#x.res.end(body);
    }
  }

  onResponseError(_c: Dispatcher.DispatchController | null, err: Error): void {
    this.#disarm();
    const x = this.#x;
    if (this.#done || err instanceof ClientClosedError) {
      this.#done = true;
      return;
    }
    const res = x.res;
    if (res.destroyed) {
      // The client went away (an aborted upload errors the body stream first): not an upstream fault.
      this.#done = true;
      return;
    }
    if (!res.headersSent && this.#retryable(err)) {
      const ejected = this.#target!.reportFailure(Date.now());
      if (ejected) x.gateway.logTargetEjected(this.#route.name, this.#target!.url);
      this.#dispatch(this.#target);
      return;
    }
    this.#done = true;
    if (isConnectPhaseError(err) && this.#target!.reportFailure(Date.now())) {
      x.gateway.logTargetEjected(this.#route.name, this.#target!.url);
    }
    const status = statusForUpstreamError(err);
    if (status !== 413) x.gateway.logUpstreamError(x, err, errorCode(err));
    if (res.headersSent) {
      // Mid-body failure: the only honest signal left is to cut the connection.
      x.decision = 'upstream_error';
      res.destroy();
      return;
    }
    x.respond({ kind: 'respond', status, decision: status === 413 ? 'bad_request' : 'upstream_error' }, status === 413);
  }

  #retryable(err: Error): boolean {
    return (
      this.#body === null &&
      IDEMPOTENT.has(this.#x.ctx.method) &&
      this.#attempts <= this.#route.upstream.options.retries &&
      isConnectPhaseError(err)
    );
  }

  abortFromClient(): void {
    this.#disarm();
    if (this.#done) return;
    this.#done = true;
    this.#controller?.abort(new ClientClosedError('client closed the connection'));
  }

  resume(): void {
    this.#disarm();
    this.#controller?.resume();
  }

  /**
   * Bounds what undici does not: how long a request may wait in the pool's queue for a
   * connection, and how long a client that stopped reading may hold an upstream connection
   * (undici's bodyTimeout does not run while the response is paused). Both use the route's
   * upstream timeoutMs. Without them, 256 clients that never read lock everyone out of a route.
   */
  #arm(why: typeof QUEUE_TIMEOUT | typeof CLIENT_STALLED): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(why === QUEUE_TIMEOUT ? onQueueTimeout : onClientStalled, this.#route.upstream.options.timeoutMs, this);
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  /** No connection became free in time: 503, and the queued request aborts when it is reached. */
  queueTimedOut(): void {
    this.#timer = null;
    if (this.#done) return;
    this.#done = true;
    const x = this.#x;
    x.gateway.logUpstreamError(x, new Error('no upstream connection became free in time'), 'pool_queue_timeout');
    x.respond(POOL_EXHAUSTED);
  }

  /** The client has not read for timeoutMs: give the upstream connection back. */
  clientStalled(): void {
    this.#timer = null;
    if (this.#done) return;
    this.#done = true;
    this.#controller?.abort(new ClientClosedError('client stopped reading'));
    this.#x.res.destroy();
  }
}

const QUEUE_TIMEOUT = 'queue';
const CLIENT_STALLED = 'stalled';
const POOL_EXHAUSTED = Object.freeze({ kind: 'respond', status: 503, decision: 'upstream_error', error: 'unavailable' } as const);

function onQueueTimeout(call: UpstreamCall): void {
  call.queueTimedOut();
}

function onClientStalled(call: UpstreamCall): void {
  call.clientStalled();
}

function resumeOnDrain(this: ServerResponse): void {
  (this as unknown as Record<symbol, UpstreamCall>)[kCall]?.resume();
}
