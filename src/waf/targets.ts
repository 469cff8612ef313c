/**
 * What the WAF reads from the request head (PRODUCT §1.10): the normalised path, the query
 * arguments, the headers and the cookies. Which rules see a header depends on the header:
 * - structural headers (Host, Accept*, Content-Type, Authorization, caching and fetch metadata)
 *   carry formats, tokens and validators; only the rules that must see every header (Log4Shell,
 *   Shellshock, OGNL, NUL) read them;
 * - every other header — User-Agent, Referer, X-Forwarded-*, Forwarded, custom X-… headers —
 *   is an input an application may log, store or echo, and gets the header rules;
 * - Cookie is split into names and values, which get the argument rules.
 */
import type { RequestContext } from '../contract/types.js';
import { inspectArgs, inspectCookies, MAX_QUERY_ARGS } from './args.js';
import type { RuleSet, Scan } from './engine.js';
import { S_HEADER, S_PATH, S_QUERY } from './exclusions.js';
import { T_ANY_HEADER, T_HEADER, T_PATH, T_UA, T_URLENC, T_VALUE } from './rule.js';

const STRUCTURAL = T_ANY_HEADER;
const INSPECTED = T_HEADER | T_ANY_HEADER;
const USER_AGENT = T_HEADER | T_ANY_HEADER | T_UA;
const COOKIE = -1;

const HEADER_BITS: ReadonlyMap<string, number> = new Map<string, number>([
  ['user-agent', USER_AGENT],
  ['cookie', COOKIE],
  ...[
    'host', 'accept', 'accept-charset', 'accept-encoding', 'accept-language', 'accept-datetime', 'accept-ranges',
    'access-control-request-method', 'access-control-request-headers', 'authorization', 'proxy-authorization',
    'cache-control', 'connection', 'content-length', 'content-type', 'content-encoding', 'content-language',
    'content-md5', 'content-range', 'date', 'dnt', 'expect', 'if-match', 'if-modified-since', 'if-none-match',
    'if-range', 'if-unmodified-since', 'keep-alive', 'max-forwards', 'origin', 'pragma', 'priority', 'range',
    'te', 'trailer', 'transfer-encoding', 'upgrade', 'upgrade-insecure-requests', 'via', 'x-request-id',
    'traceparent', 'tracestate', 'baggage', 'dpop', 'x-csrf-token', 'x-xsrf-token', 'sec-websocket-key',
    'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'sec-websocket-accept',
  ].map((h): [string, number] => [h, STRUCTURAL]),
]);

function headerBits(name: string): number {
  const known = HEADER_BITS.get(name);
  if (known !== undefined) return known;
  // Fetch metadata and client hints (sec-fetch-*, sec-ch-ua*) are browser-set structured values.
  return name.startsWith('sec-') ? STRUCTURAL : INSPECTED;
}

/** Characters a normalised path keeps raw without meaning anything special (RFC 3986 unreserved + '/'). */
function isPlainPath(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    const plain = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)
      || c === 0x2f || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
    if (!plain) return false;
  }
  return true;
}

export function inspectHead(rules: RuleSet, scan: Scan, ctx: RequestContext): void {
  const path = ctx.path;
  rules.inspect(scan, T_PATH, path, S_PATH, 'path');
  // Segments are argument values in REST APIs (/users/1%20OR%201=1): inspect them as such, but
  // only when the path holds more than identifier characters.
  if (!isPlainPath(path)) {
    let start = 1;
    while (start < path.length) {
      let end = path.indexOf('/', start);
      if (end < 0) end = path.length;
      if (end > start) rules.inspect(scan, T_VALUE, path.slice(start, end), S_PATH, 'path');
      start = end + 1;
    }
  }
  if (ctx.query !== '') inspectArgs(rules, scan, ctx.query, T_VALUE | T_URLENC, S_QUERY, MAX_QUERY_ARGS);
  const headers = ctx.headers;
  let fields = 0;
  for (const name in headers) {
    fields++;
    if (name.charCodeAt(0) === 0x3a /* ':' HTTP/2 pseudo-header */) continue;
    const value = headers[name];
    if (value === undefined) continue;
    const bits = headerBits(name);
    if (typeof value === 'string') inspectHeader(rules, scan, name, value, bits);
    else for (const v of value) inspectHeader(rules, scan, name, v, bits);
  }
  // Fewer fields than header lines: some were repeated. Node joins most repeats (seen above),
  // but keeps only the first copy of a few — and every copy is forwarded to the upstream.
  const raw = ctx.rawHeaders;
  if (raw !== undefined && raw !== null && raw.length / 2 > fields) inspectDroppedDuplicates(rules, scan, raw);
}

/** node:http's list of headers whose repeats it discards (lib/_http_incoming.js matchKnownFields). */
const FIRST_COPY_ONLY = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer',
  'retry-after', 'server', 'user-agent',
]);

function inspectDroppedDuplicates(rules: RuleSet, scan: Scan, raw: readonly string[]): void {
  const first = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!FIRST_COPY_ONLY.has(name)) continue;
    if (!first.has(name)) first.add(name);
    else inspectHeader(rules, scan, name, raw[i + 1]!, headerBits(name));
  }
}

function inspectHeader(rules: RuleSet, scan: Scan, name: string, value: string, bits: number): void {
  if (bits === COOKIE) inspectCookies(rules, scan, value);
  else rules.inspect(scan, bits, value, S_HEADER, name);
}
