/**
 * The request as CRS's variables see it, as byte strings (one char per byte, as ModSecurity
 * reads the request): the request line, ARGS_GET from the query string, the headers in the order
 * sent (every copy, from rawHeaders), the cookies, and — for phase 2 — the body by processor:
 * URLENCODED → ARGS_POST; JSON → ARGS_POST named `json.a.b` and `json.list.array_0`, every scalar,
 * as libmodsecurity 3's JSON processor names them (json-body.ts); MULTIPART → ARGS_POST, FILES,
 * FILES_NAMES and MULTIPART_PART_HEADERS, read by the built-in WAF's multipart scanner through
 * body-collector.ts; XML → XML:/* (the text content).
 */
import { isUtf8 } from 'node:buffer';
import type { RequestContext } from '../../contract/types.js';
import { scanMultipartInto, type BodyArg } from './body-collector.js';
import { jsonArguments } from './json-body.js';
import { entry, type Entry, type Transaction } from './transaction.js';

const hexVal = (c: number): number =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;

/** %XX → the byte, anything invalid kept; `+` → space only in form arguments. */
function percentDecode(s: string, plusIsSpace: boolean): string {
  if (s.indexOf('%') < 0 && (!plusIsSpace || s.indexOf('+') < 0)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b && plusIsSpace) out += ' ';
    else if (c === 0x25 && hexVal(s.charCodeAt(i + 1)) >= 0 && hexVal(s.charCodeAt(i + 2)) >= 0) {
      out += String.fromCharCode(hexVal(s.charCodeAt(i + 1)) * 16 + hexVal(s.charCodeAt(i + 2)));
      i += 2;
    } else out += s[i];
  }
  return out;
}

/** ModSecurity's argument decoding: `+` → space, %XX → the byte, anything invalid kept. */
export const argDecode = (s: string): string => percentDecode(s, true);

/** ModSecurity's uri_decode for REQUEST_URI/REQUEST_FILENAME: %XX → the byte, `+` kept (a path, not a form). */
export const uriDecode = (s: string): string => percentDecode(s, false);

/** Characters past U+00FF (from a JSON \u escape) as their UTF-8 bytes. */
export function toBytes(s: string): string {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return Buffer.from(s, 'utf8').toString('latin1');
  return s;
}

/** A string of code points as its UTF-8 bytes, one char per byte (ASCII unchanged, no copy). */
function utf8Bytes(s: string): string {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'utf8').toString('latin1');
  return s;
}

/**
 * A JSON body's arguments as ModSecurity's JSON processor (yajl) hands them over: UTF-8 bytes,
 * whether a character was sent raw or as a `\u00e9` escape. A body in valid UTF-8 is decoded
 * as text, scanned, and each name and value encoded back, so `"L'Or\u00e9al"` and `"L'Oréal"`
 * both reach the rules as the bytes C3 A9 (a lone E9 byte would be invalid UTF-8 to 920250).
 * A body that is not valid UTF-8 is scanned as bytes, its invalid bytes kept for the rules.
 */
function jsonArgs(bytes: Buffer, text: string, add: (name: string, value: string) => void): void {
  const utf8 = isUtf8(bytes);
  const encode = utf8 ? utf8Bytes : toBytes;
  for (const a of jsonArguments(utf8 ? bytes.toString('utf8') : text, MAX_ARGS)) add(encode(a.name), encode(a.value));
}

/** Bounds on what one request puts in the collections (CRS's own checks stop far below). */
const MAX_ARGS = 1024;
const MAX_COOKIES = 256;

function parseArgs(text: string, collection: string, out: Entry[]): void {
  let start = 0;
  while (start <= text.length && out.length < MAX_ARGS) {
    let end = text.indexOf('&', start);
    if (end < 0) end = text.length;
    if (end > start) {
      const eq = text.indexOf('=', start);
      const has = eq >= 0 && eq < end;
      const name = argDecode(text.slice(start, has ? eq : end));
      const value = has ? argDecode(text.slice(eq + 1, end)) : '';
      out.push(entry(collection, name, value));
    }
    start = end + 1;
  }
}

function headerPairs(ctx: RequestContext): [string, string][] {
  const raw = ctx.rawHeaders;
  const out: [string, string][] = [];
  if (raw !== undefined && raw !== null && raw.length > 0) {
    // HTTP/2 pseudo-headers (:method, :path …) are the request line, not headers.
    for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.charCodeAt(0) !== 0x3a) out.push([raw[i]!, raw[i + 1]!]);
    return out;
  }
  for (const name in ctx.headers) {
    if (name.charCodeAt(0) === 0x3a) continue;
    const v = ctx.headers[name];
    if (v === undefined) continue;
    if (typeof v === 'string') out.push([name, v]);
    else for (const x of v) out.push([name, x]);
  }
  return out;
}

/** Fills the phase-1 variables of `t` from the request head. */
export function loadHead(t: Transaction, ctx: RequestContext, protocol: string): void {
  const uri = ctx.query === '' ? ctx.path : `${ctx.path}?${ctx.query}`;
  const s = t.scalars;
  s.set('REQUEST_METHOD', ctx.method);
  // As libmodsecurity 3 sets them (checked against nginx + libmodsecurity 3.0.9): REQUEST_URI,
  // REQUEST_FILENAME and REQUEST_BASENAME percent-decoded, REQUEST_URI_RAW and REQUEST_LINE as
  // sent. CRS relies on it: 933160 finds `subSTR($x)` in a path sent as `subSTR%28%24x%29`.
  const file = uriDecode(ctx.path);
  s.set('REQUEST_URI', uriDecode(uri));
  s.set('REQUEST_URI_RAW', uri);
  s.set('REQUEST_FILENAME', file);
  s.set('REQUEST_BASENAME', file.slice(file.lastIndexOf('/') + 1));
  s.set('REQUEST_PROTOCOL', protocol);
  s.set('REQUEST_LINE', `${ctx.method} ${uri} ${protocol}`);
  s.set('QUERY_STRING', ctx.query);
  s.set('REMOTE_ADDR', ctx.clientIp);
  s.set('UNIQUE_ID', ctx.id);
  s.set('SERVER_NAME', ctx.host);
  // Known from phase 1, as ModSecurity's recommended config sets it from the Content-Type there.
  s.set('REQBODY_PROCESSOR', processorFor(typeof ctx.headers['content-type'] === 'string' ? ctx.headers['content-type'] : undefined));
  s.set('REQBODY_ERROR', '0');
  s.set('REQUEST_BODY', '');
  s.set('REQUEST_BODY_LENGTH', '0');
  s.set('FILES_COMBINED_SIZE', '0');

  // Only the collections of values: ARGS, ARGS_NAMES and the *_NAMES views are made from these
  // when a rule first reads them (Transaction.collection).
  const argsGet: Entry[] = [];
  if (ctx.query !== '') parseArgs(ctx.query, 'ARGS_GET', argsGet);
  const headers: Entry[] = [];
  const cookies: Entry[] = [];
  for (const [name, value] of headerPairs(ctx)) {
    headers.push(entry('REQUEST_HEADERS', name, value));
    if (name.toLowerCase() === 'cookie') parseCookies(value, cookies);
  }
  t.collections.set('ARGS_GET', argsGet);
  t.collections.set('REQUEST_HEADERS', headers);
  t.collections.set('REQUEST_COOKIES', cookies);
  setArgs(t, []);
}

/** `a=1; b=2`: names and values as sent (ModSecurity does not decode cookies). */
function parseCookies(header: string, values: Entry[]): void {
  for (const part of header.split(';')) {
    if (values.length >= MAX_COOKIES) return;
    const p = part.replace(/^[ \t]+/, '');
    if (p === '') continue;
    const eq = p.indexOf('=');
    const name = eq < 0 ? p : p.slice(0, eq);
    values.push(entry('REQUEST_COOKIES', name, eq < 0 ? '' : p.slice(eq + 1)));
  }
}

/** ARGS_POST, and the combined size of ARGS (ARGS_GET + ARGS_POST, made when read). */
function setArgs(t: Transaction, post: Entry[]): void {
  t.collections.set('ARGS_POST', post);
  let size = 0;
  for (const e of t.collections.get('ARGS_GET') ?? []) size += e.key.length + e.value.length;
  for (const e of post) size += e.key.length + e.value.length;
  t.setScalar('ARGS_COMBINED_SIZE', String(size));
}

/** The processor ModSecurity's recommended configuration picks for a Content-Type. */
export function processorFor(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return 'URLENCODED';
  if (type === 'multipart/form-data' || type === 'multipart/related') return 'MULTIPART';
  if (type === 'application/json' || type.endsWith('+json')) return 'JSON';
  if (type === 'text/xml' || type === 'application/xml' || type.endsWith('+xml')) return 'XML';
  return '';
}

/** Fills the phase-2 variables of `t` from the body bytes read. */
export function loadBody(t: Transaction, contentType: string | undefined, bytes: Buffer): void {
  const text = bytes.toString('latin1');
  const processor = t.bodyProcessor ?? processorFor(contentType);
  t.setScalar('REQBODY_PROCESSOR', processor);
  // As ModSecurity 2: REQUEST_BODY is the raw body only for URLENCODED, or when a rule forced it
  // (CRS 901340 does for bodies no processor parses); a parsed XML/JSON/multipart body is read
  // through its own variables.
  t.setScalar('REQUEST_BODY', processor === 'URLENCODED' || t.forceBodyVariable ? text : '');
  t.setScalar('REQUEST_BODY_LENGTH', String(bytes.length));
  const post: Entry[] = [];
  const add = (name: string, value: string): void => {
    if (post.length < MAX_ARGS) post.push(entry('ARGS_POST', name, value));
  };
  if (processor === 'URLENCODED') parseArgs(text, 'ARGS_POST', post);
  else if (processor === 'JSON') jsonArgs(bytes, text, add);
  else if (processor === 'MULTIPART') {
    loadMultipart(t, contentType ?? '', text, add);
  } else if (processor === 'XML') {
    t.collections.set('XML', xmlEntries(text));
  }
  setArgs(t, post);
  t.collectionsChanged();
}

function loadMultipart(t: Transaction, contentType: string, text: string, add: (name: string, value: string) => void): void {
  const files: Entry[] = [];
  const partHeaders: Entry[] = [];
  const args: BodyArg[] = [];
  const fileArgs: BodyArg[] = [];
  scanMultipartInto(text, contentType, args, fileArgs, (name, line) => partHeaders.push(entry('MULTIPART_PART_HEADERS', name, line)));
  for (const a of args) add(a.name, a.value);
  for (const f of fileArgs) {
    files.push(entry('FILES', f.name, f.value));
  }
  t.collections.set('FILES', files);
  t.collections.set('MULTIPART_PART_HEADERS', partHeaders);
}

const XML_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** XML's five entities and character references, as libxml2 hands ModSecurity node values. */
function xmlDecode(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(?:#x([0-9a-fA-F]{1,6})|#([0-9]{1,7})|(lt|gt|amp|quot|apos));/g, (m, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (hex !== undefined) return toBytes(String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff)));
    if (dec !== undefined) return toBytes(String.fromCodePoint(Math.min(Number(dec), 0x10ffff)));
    return XML_ENTITIES[name!] ?? m;
  });
}

const XML_ATTRIBUTE = /[\s]([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/**
 * ModSecurity's XML variables CRS reads: `XML:/*`, the string value of the document element (its
 * text, markup dropped, entities decoded), and `XML://@*`, every attribute value. A linear scan
 * of the tags, not a parser: a body that is not well-formed still yields its text.
 */
function xmlEntries(text: string): Entry[] {
  const out: Entry[] = [];
  let body = '';
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    if (lt < 0) {
      body += text.slice(i);
      break;
    }
    body += text.slice(i, lt);
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      i = end < 0 ? text.length : end + 3;
      continue;
    }
    if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9);
      body += text.slice(lt + 9, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end + 3;
      continue;
    }
    const gt = text.indexOf('>', lt + 1);
    const tag = text.slice(lt, gt < 0 ? text.length : gt);
    if (out.length < 1024 && !tag.startsWith('<?') && !tag.startsWith('<!')) {
      for (const m of tag.matchAll(XML_ATTRIBUTE)) out.push(entry('XML', '//@*', xmlDecode(m[2] ?? m[3] ?? '')));
    }
    i = gt < 0 ? text.length : gt + 1;
  }
  out.unshift(entry('XML', '/*', xmlDecode(body)));
  return out;
}
