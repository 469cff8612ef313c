/**
 * The process logger: pino writing JSON lines to stdout through an
 * asynchronous SonicBoom destination (PRODUCT §6: logging must not block the
 * event loop). Access-log lines and operational events share this stream;
 * access lines carry `msg: "access"`.
 */
import cluster from 'node:cluster';
import pino, { type Logger, type DestinationStream } from 'pino';

export interface ProcessLogger {
  readonly logger: Logger;
  /** Write out what is buffered; call before exit. */
  flush(): void;
}

// Never let a secret through even if a caller logs a raw header bag by mistake.
const REDACT = [
  'headers.authorization', 'headers.cookie', 'headers["proxy-authorization"]',
  'req.headers.authorization', 'req.headers.cookie', 'token', 'secret',
  // A DPoP proof (RFC 9449) is short-lived, but it names the token's hash and the client's key.
  'headers.dpop', 'req.headers.dpop',
];

/** PIPE_BUF on Linux: a pipe write up to this size is atomic (pipe(7)). */
const PIPE_BUF = 4096;

let isoSecond = -1;
let isoPrefix = '';

/**
 * pino's stdTimeFunctions.isoTime, same output (`,"time":"2026-11-27T19:28:33.180Z"`), with the
 * part up to the second formatted once per second: 0.06-0.5 µs per line instead of 0.5-1.8 µs
 * for Date#toISOString (docs/performance.md), on every access line.
 */
export function isoTime(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = ',"time":"' + new Date(second * 1000).toISOString().slice(0, 20);
  }
  const ms = now - second * 1000;
  return isoPrefix + (ms < 10 ? '00' : ms < 100 ? '0' : '') + ms + 'Z"';
}

export function createProcessLogger(opts: { level?: string; destination?: DestinationStream | number } = {}): ProcessLogger {
  const dest = typeof opts.destination === 'object'
    ? opts.destination
    // sync:false keeps writes off the event loop and coalesces lines written while one is in
    // flight; no minLength, so an operational line (listening, reload) is never held back.
    // (Under load the coalescing already gathers several lines per write; a minLength measured
    // no fewer syscalls per request, docs/performance.md.)
    // In a cluster worker (server.workers) several processes share stdout: each write is then
    // kept to whole lines within PIPE_BUF, which the kernel writes to a pipe atomically, so no
    // line is torn by another worker's write.
    : pino.destination({ dest: opts.destination ?? 1, sync: false, ...(cluster.isWorker ? { maxWrite: PIPE_BUF } : {}) });
  const logger = pino(
    {
      level: opts.level ?? process.env['PORTCULLIS_LOG_LEVEL'] ?? 'info',
      base: null,
      timestamp: isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    dest,
  );
  return {
    logger,
    flush() {
      const d = dest as DestinationStream & { flushSync?: () => void };
      try {
        d.flushSync?.();
      } catch {
        // flushSync throws while the destination is still opening; nothing is buffered then.
      }
    },
  };
}
