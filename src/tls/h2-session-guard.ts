/**
 * Per-session budgets of the HTTP/2 side of the HTTPS listener (issue 21, docs/http2.md): what
 * Node and nghttp2 do not count themselves.
 *
 * - Streams opened per second (a token bucket holding one second of streams).
 * - Streams the peer reset before their response started, per RESET_WINDOW_MS: the rapid-reset
 *   attack (CVE-2023-44487) opens and cancels streams faster than any server can start work.
 * - SETTINGS and PING frames per second, each of which demands an ACK (CVE-2019-9512, -9515).
 * - Open streams over all sessions (server.limits.http2.maxTotalStreams): a new one past it is
 *   refused (RST_STREAM REFUSED_STREAM, RFC 9113 §8.7: safe to retry) before any work.
 * - A session idle for keepAliveTimeoutMs while a response waits on flow control: a peer that
 *   stopped reading (zero-window slow read) is not waited for.
 *
 * A session over a budget gets GOAWAY(ENHANCE_YOUR_CALM) (RFC 9113 §7), its open streams are
 * cancelled, and it is destroyed after LINGER_MS — the approach nginx, Envoy and Go took in 2023.
 * The linger lets the GOAWAY reach the peer: closing a socket with unread input makes the kernel
 * answer RST, and the peer's kernel then drops what it had not read yet, GOAWAY included.
 */
import { constants as h2, type Http2Session, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Http2LimitsConfig } from '../config/types.js';

/** The window of maxResetsPerWindow. */
export const RESET_WINDOW_MS = 10_000;
/** SETTINGS + PING frames a session may send per second (burst: twice that). Clients send a handful. */
export const CONTROL_FRAMES_PER_SECOND = 50;
/** Long enough for the GOAWAY to be flushed; every moment longer reads more of an abuser's flood. */
const LINGER_MS = 100;

/** Why a session was sent away: the `reason` label of portcullis_http2_goaways_total. */
export type CalmReason = 'stream_rate' | 'reset_rate' | 'control_frames' | 'stalled_reader';

const kBudget = Symbol('portcullis.h2Budget');

/** Token bucket: `capacity` tokens, refilled at `perSecond`. */
class Bucket {
  #tokens: number;
  #stamp: number;

  constructor(capacity: number) {
    this.#tokens = capacity;
    this.#stamp = Date.now();
  }

  take(capacity: number, perSecond: number, now: number): boolean {
    this.#tokens = Math.min(capacity, this.#tokens + ((now - this.#stamp) * perSecond) / 1000);
    this.#stamp = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

class SessionBudget {
  readonly guard: Http2Guard;
  readonly session: Http2Session;
  readonly streams: Bucket;
  readonly control = new Bucket(CONTROL_FRAMES_PER_SECOND * 2);
  readonly open = new Set<ServerHttp2Stream>();
  resets = 0;
  resetWindowStart = Date.now();
  calm = false;

  constructor(guard: Http2Guard, session: Http2Session, streamsPerSecond: number) {
    this.guard = guard;
    this.session = session;
    this.streams = new Bucket(streamsPerSecond);
  }
}

export class Http2Guard {
  /** Read per session and stream, so a reload applies to what starts after it. */
  limits: Http2LimitsConfig;
  #keepAliveMs: number;
  readonly #onCalm: (reason: CalmReason) => void;
  #total = 0;

  constructor(limits: Http2LimitsConfig, keepAliveMs: number, onCalm: (reason: CalmReason) => void) {
    this.limits = limits;
    this.#keepAliveMs = keepAliveMs;
    this.#onCalm = onCalm;
  }

  set keepAliveMs(ms: number) {
    this.#keepAliveMs = ms;
  }

  /** Open streams over all sessions (tests, metrics). */
  get openStreams(): number {
    return this.#total;
  }

  /** The listener's 'session' event. */
  attach(session: ServerHttp2Session): void {
    (session as unknown as Record<symbol, SessionBudget>)[kBudget] = new SessionBudget(this, session, this.limits.maxStreamsPerSecond);
    session.on('remoteSettings', onControlFrame);
    session.on('ping', onControlFrame);
    // Idle sessions end gracefully (GOAWAY): streams in flight still finish — unless one waits on a peer that stopped reading.
    session.setTimeout(this.#keepAliveMs, onSessionIdle);
  }

  /** The listener's 'stream' event, before the request runs: false when the stream was refused. */
  admit(stream: ServerHttp2Stream): boolean {
    const b = budgetOf(stream.session);
    if (b === undefined || b.calm) {
      stream.close(h2.NGHTTP2_CANCEL);
      return false;
    }
    if (this.#total >= this.limits.maxTotalStreams) {
      stream.close(h2.NGHTTP2_REFUSED_STREAM);
      return false;
    }
    const max = this.limits.maxStreamsPerSecond;
    if (!b.streams.take(max, max, Date.now())) {
      this.calm(stream.session!, 'stream_rate');
      return false;
    }
    this.#total++;
    b.open.add(stream);
    // stream.session is undefined once the stream is destroyed: the budget rides on the stream.
    (stream as unknown as Record<symbol, SessionBudget>)[kBudget] = b;
    stream.once('close', onStreamClose);
    return true;
  }

  /** GOAWAY(ENHANCE_YOUR_CALM), cancel what it has open, destroy it after the linger. */
  calm(session: Http2Session, reason: CalmReason): void {
    const b = budgetOf(session);
    if (b === undefined || b.calm) return;
    b.calm = true;
    this.#onCalm(reason);
    if (session.destroyed) return;
    session.goaway(h2.NGHTTP2_ENHANCE_YOUR_CALM);
    for (const s of b.open) if (!s.destroyed) s.close(h2.NGHTTP2_CANCEL);
    setTimeout(destroySession, LINGER_MS, session).unref();
  }

  streamClosed(stream: ServerHttp2Stream, b: SessionBudget): void {
    if (!b.open.delete(stream)) return;
    this.#total--;
    // A reset before any response: what a rapid-reset attacker does with every stream.
    if (b.calm || stream.rstCode === h2.NGHTTP2_NO_ERROR || stream.headersSent) return;
    const now = Date.now();
    if (now - b.resetWindowStart >= RESET_WINDOW_MS) {
      b.resetWindowStart = now;
      b.resets = 0;
    }
    if (++b.resets > this.limits.maxResetsPerWindow) this.calm(b.session, 'reset_rate');
  }
}

function budgetOf(session: Http2Session | undefined): SessionBudget | undefined {
  return session === undefined ? undefined : (session as unknown as Record<symbol, SessionBudget | undefined>)[kBudget];
}

function onStreamClose(this: ServerHttp2Stream): void {
  const b = (this as unknown as Record<symbol, SessionBudget | undefined>)[kBudget];
  if (b !== undefined) b.guard.streamClosed(this, b);
}

function onControlFrame(this: ServerHttp2Session): void {
  const b = budgetOf(this);
  if (b !== undefined && !b.calm && !b.control.take(CONTROL_FRAMES_PER_SECOND * 2, CONTROL_FRAMES_PER_SECOND, Date.now())) b.guard.calm(this, 'control_frames');
}

function onSessionIdle(this: ServerHttp2Session): void {
  const b = budgetOf(this);
  if (b !== undefined) {
    // Nothing moved for keepAliveTimeoutMs in either direction while a response had bytes to send:
    // the peer gives us no window (or stopped reading). Waiting would hold its streams forever.
    for (const s of b.open) if (s.bufferSize > 0) return b.guard.calm(this, 'stalled_reader');
  }
  this.close();
}

/**
 * With the code as the first argument: session.destroy() takes its GOAWAY code from its error
 * argument, and without one would send a second GOAWAY with NO_ERROR. The session error this
 * makes goes to the server's 'sessionError' event, which nothing needs to handle.
 */
function destroySession(session: Http2Session): void {
  if (!session.destroyed) session.destroy(h2.NGHTTP2_ENHANCE_YOUR_CALM as unknown as Error);
}
