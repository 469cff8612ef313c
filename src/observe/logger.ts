/**
 * The process logger: pino writing JSON lines to stdout through an
 * asynchronous SonicBoom destination (PRODUCT §6: logging must not block the
 * event loop). Access-log lines and operational events share this stream;
 * access lines carry `msg: "access"`.
 */
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
];

export function createProcessLogger(opts: { level?: string; destination?: DestinationStream | number } = {}): ProcessLogger {
  const dest = typeof opts.destination === 'object'
    ? opts.destination
    // sync:false keeps writes off the event loop and coalesces lines written while one is in
    // flight; no minLength, so an operational line (listening, reload) is never held back.
    : pino.destination({ dest: opts.destination ?? 1, sync: false });
  const logger = pino(
    {
      level: opts.level ?? process.env['PORTCULLIS_LOG_LEVEL'] ?? 'info',
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
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
