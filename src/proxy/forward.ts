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
import type { Exchange, Abortable } from '../server/exchange.js';
import type { CompiledRoute } from '../route/compiled-route.js';
import type { UpstreamTarget } from './upstreams.js';
import { stripPathPrefix } from '../route/match.js';
import { buildResponseHeaders } from './headers.js';
import { isConnectPhaseError, statusForUpstreamError, errorCode } from './errors.js';
import type { Readable } from 'node:stream';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

class ClientClosedError extends Error {
  readonly code = 'PORTCULLIS_ERR_CLIENT_CLOSED';
}

const kCall = Symbol('portcullis.upstreamCall');

export class UpstreamCall implements Dispatcher.DispatchHandler, Abortable {
  readonly #x: Exchange;
  readonly #route: CompiledRoute;
  readonly #headers: string[];
  readonly #body: Readable | null;
  readonly #path: string;
  #target: UpstreamTarget | null = null;
  #controller: Dispatcher.DispatchController | null = null;
  #attempts = 0;
  #startNs = 0n;
  #done = false;

  constructor(x: Exchange, route: CompiledRoute, headers: string[], body: Readable | null) {
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
    this.#x.call = this;
    this.#dispatch(null);
  }

  #dispatch(avoid: UpstreamTarget | null): void {
    const target = this.#route.upstream.pick(avoid);
    const timeoutMs = this.#route.upstream.options.timeoutMs;
    this.#target = target;
    this.#attempts++;
    this.#startNs = process.hrtime.bigint();
    try {
      target.pool.dispatch(
        {
          path: target.basePath + this.#path,
          method: this.#x.ctx.method as Dispatcher.HttpMethod,
          headers: this.#headers,
          body: this.#body,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        this,
      );
    } catch (err) {
      // undici validates synchronously (e.g. a header value it refuses): a bug or bad input, never a crash.
      this.onResponseError(null, err as Error);
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
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
      res.writeHead(statusCode, buildResponseHeaders(headers, x.ctx.id));
    } catch (err) {
      // The upstream sent a header Node refuses to write: answer 502, never relay it.
      x.gateway.logUpstreamError(x, err, 'invalid upstream response header');
      this.#controller?.abort(err as Error);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const res = this.#x.res;
    this.#x.bytesOut += chunk.length;
    if (!res.write(chunk)) {
      controller.pause();
      res.once('drain', resumeOnDrain);
    }
  }

  onResponseEnd(): void {
    this.#done = true;
    this.#x.res.end();
  }

  onResponseError(_c: Dispatcher.DispatchController | null, err: Error): void {
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
    if (this.#done) return;
    this.#done = true;
    this.#controller?.abort(new ClientClosedError('client closed the connection'));
  }

  resume(): void {
    this.#controller?.resume();
  }
}

function resumeOnDrain(this: ServerResponse): void {
  (this as unknown as Record<symbol, UpstreamCall>)[kCall]?.resume();
}
