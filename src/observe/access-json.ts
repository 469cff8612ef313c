/**
 * The access line (access-log.ts) serialised straight to pino's JSON, without the object and
 * without pino's per-key work: `logger.info(obj)` walks the object's 19 keys, escapes each key
 * name, looks up a serializer and a stringifier for it, on every request. Here the key names
 * and the constant `"msg":"access"` are written once, in the source, and only values are
 * escaped — what pino does for a child's bindings (serialised once, at `child()`), applied to
 * the keys of the one line written per request (issue 17). `accessLineWriter` writes the result
 * with the logger's own level prefix, timestamp, bindings and line end, so the bytes are those
 * `logger.info(accessLine(…))` writes (test/observe/access-json.test.ts compares the two).
 */
import pino, { type Logger } from 'pino';
import { accessLine, loggedMs, loggedProtocol, loggedUserAgent, type AccessSource } from './access-log.js';
import { redactPathParams } from './log-path.js';
import { methodForLog } from './method-label.js';

const INFO = 30;

/**
 * A JSON string literal. Plain text (no quote, backslash, control character or surrogate, i.e.
 * nearly every value) is quoted as it is; anything else goes through JSON.stringify.
 */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return '"' + s + '"';
}

/**
 * Values from small fixed sets — route names of the config, methods (method-label.ts bounds them),
 * decisions, protocols, TLS versions — quoted once and then looked up (issue 17: serialise
 * constant parts once). Bounded all the same: past the bound a value is quoted each time.
 */
const QUOTED_MAX = 1024;
const quotedSet = new Map<string, string>();

function quotedOnce(s: string): string {
  let q = quotedSet.get(s);
  if (q === undefined) {
    q = jsonString(s);
    if (quotedSet.size < QUOTED_MAX) quotedSet.set(s, q);
  }
  return q;
}

/**
 * The last value of a per-client field (User-Agent, Host, client address) and its literal: a
 * keep-alive connection repeats them on every request, and comparing is cheaper than scanning
 * a 100-character User-Agent for characters to escape.
 */
class LastQuoted {
  #raw = '';
  #json = '""';

  of(s: string): string {
    if (s !== this.#raw) {
      this.#json = jsonString(s);
      this.#raw = s;
    }
    return this.#json;
  }
}

const lastUserAgent = new LastQuoted();
const lastHost = new LastQuoted();
const lastClientIp = new LastQuoted();

const str = (s: string | null): string => (s === null ? 'null' : jsonString(s));
const num = (n: number | null): string => (n === null || !Number.isFinite(n) ? 'null' : String(n));

/** `,"msg":"access",…` — the part of the line after pino's level, time and bindings. */
export function accessFields(x: AccessSource, status: number, durationMs: number): string {
  const ctx = x.ctx;
  const ua = loggedUserAgent(x);
  return ',"msg":"access","requestId":' + jsonString(ctx.id) +
    ',"clientIp":' + lastClientIp.of(ctx.clientIp) +
    ',"method":' + quotedOnce(methodForLog(ctx.method)) +
    ',"host":' + lastHost.of(ctx.host) +
    ',"path":' + jsonString(redactPathParams(ctx.path)) +
    ',"route":' + (x.route === null ? 'null' : quotedOnce(x.route.name)) +
    ',"status":' + num(status) +
    ',"decision":' + quotedOnce(x.decision) +
    ',"durationMs":' + num(loggedMs(durationMs)) +
    ',"upstreamMs":' + (ctx.upstreamMs === null ? 'null' : num(loggedMs(ctx.upstreamMs))) +
    ',"bytesIn":' + num(x.bytesIn) +
    ',"bytesOut":' + num(x.bytesOut) +
    ',"sub":' + (ctx.identity === null ? 'null' : str(ctx.identity.sub)) +
    // rule ids are integers: JSON.stringify of a short number array, as pino writes it
    ',"wafRules":' + (ctx.wafRules === null ? 'null' : JSON.stringify(ctx.wafRules)) +
    ',"wafScore":' + num(ctx.wafScore) +
    ',"userAgent":' + (ua === null ? 'null' : lastUserAgent.of(ua)) +
    ',"tls":' + (x.tlsProtocol === null ? 'null' : quotedOnce(x.tlsProtocol)) +
    ',"protocol":' + quotedOnce(loggedProtocol(x)) +
    traceFields(ctx.trace);
}

/** `,"traceId":…,"spanId":…` only when tracing is on (docs/tracing.md), as accessLine adds them. */
function traceFields(trace: { readonly traceId: string; readonly spanId: string } | null | undefined): string {
  return trace === undefined || trace === null ? '' : ',"traceId":' + jsonString(trace.traceId) + ',"spanId":' + jsonString(trace.spanId);
}

interface PinoInternals {
  [key: symbol]: unknown;
}

export type AccessWriter = (x: AccessSource, status: number, durationMs: number) => void;

/**
 * How a Gateway writes its access lines to `logger`, decided once per Gateway. The direct path
 * needs a plain pino logger: one destination without per-line metadata (pino.multistream sets
 * it), no mixin, no logMethod or streamWrite hook, no nested key, no log formatter. Anything else gets
 * `logger.info(accessLine(…))`, exactly as before.
 */
export function accessLineWriter(logger: Logger): AccessWriter {
  const l = logger as unknown as PinoInternals;
  const s = pino.symbols;
  const stream = l[s.streamSym] as { write(line: string): unknown; [key: symbol]: unknown } | undefined;
  const hooks = l[s.hooksSym] as { logMethod?: unknown; streamWrite?: unknown } | undefined;
  const lsCache = l[s.lsCacheSym] as Record<number, string> | undefined;
  const time = l[s.timeSym];
  const plain = stream !== undefined && typeof stream.write === 'function' && stream[s.needsMetadataGsym] !== true &&
    lsCache !== undefined && typeof lsCache[INFO] === 'string' && typeof time === 'function' &&
    l[s.mixinSym] == null && (hooks === undefined || (hooks.logMethod == null && hooks.streamWrite == null)) &&
    l[s.nestedKeySym] == null && (l[s.formattersSym] as { log?: unknown } | undefined)?.log == null;
  if (!plain) return (x, status, durationMs) => logger.info(accessLine(x, status, durationMs));
  const timeOf = time as () => string;
  return (x, status, durationMs) => {
    // the level may change at run time (a reload with another log level): checked per line, as pino does
    if (!logger.isLevelEnabled('info')) return;
    stream.write(lsCache[INFO] + timeOf() + (l[s.chindingsSym] as string) + accessFields(x, status, durationMs) + (l[s.endSym] as string));
  };
}
