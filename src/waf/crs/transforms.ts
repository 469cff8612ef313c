/**
 * ModSecurity's transformation functions (`t:…`) on byte strings (one char per byte, 0–255),
 * as ModSecurity applies them to bytes: a decoded %uXXXX or &#NNNN; keeps its low byte, bar the
 * full-width ASCII forms U+FF01–U+FF5E, which map to ASCII (ModSecurity's default unicode map).
 * Each returns its input itself when there is nothing to change, so the engine's per-value cache
 * sees the same string and the prefilter need not read it again.
 */
import { createHash } from 'node:crypto';

export type TransformFn = (s: string) => string;

const hexVal = (c: number): number =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
const isWs = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
const chr = String.fromCharCode;

/** A code point decoded from %u, &#, \u or CSS escapes, as the byte ModSecurity keeps. */
function unicodeByte(cp: number): string {
  if (cp >= 0xff01 && cp <= 0xff5e) return chr(cp - 0xfee0);
  return chr(cp & 0xff);
}

function urlDecode(s: string, uni: boolean): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b) {
      out += ' ';
    } else if (c === 0x25) {
      if (uni && (s.charCodeAt(i + 1) | 0x20) === 0x75) {
        const a = hexVal(s.charCodeAt(i + 2)), b = hexVal(s.charCodeAt(i + 3));
        const d = hexVal(s.charCodeAt(i + 4)), e = hexVal(s.charCodeAt(i + 5));
        if (a >= 0 && b >= 0 && d >= 0 && e >= 0) {
          out += unicodeByte((a << 12) | (b << 8) | (d << 4) | e);
          i += 5;
          continue;
        }
      }
      const h = hexVal(s.charCodeAt(i + 1)), l = hexVal(s.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        out += chr(h * 16 + l);
        i += 2;
      } else {
        out += '%';
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

const ENTITIES: Readonly<Record<string, string>> = { quot: '"', amp: '&', lt: '<', gt: '>', nbsp: '\xa0', apos: "'" };

function htmlEntityDecode(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(?:#[xX]([0-9a-fA-F]{1,8});?|#([0-9]{1,10});?|(quot|amp|lt|gt|nbsp|apos);?)/gi, (m, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (hex !== undefined) return unicodeByte(parseInt(hex, 16));
    if (dec !== undefined) return unicodeByte(Number(dec));
    return ENTITIES[name!.toLowerCase()] ?? m;
  });
}

function jsDecode(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const n = s[i + 1]!;
    if ((n === 'u' || n === 'U') && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
      out += unicodeByte(parseInt(s.slice(i + 2, i + 6), 16));
      i += 5;
    } else if ((n === 'x' || n === 'X') && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
      out += chr(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (/[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(s.slice(i + 1))![0];
      out += chr(parseInt(m, 8) & 0xff);
      i += m.length;
    } else {
      out += JS_ESCAPES[n] ?? n;
      i += 1;
    }
  }
  return out;
}
const JS_ESCAPES: Readonly<Record<string, string>> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

function escapeSeqDecode(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  return s.replace(/\\(?:x([0-9a-fA-F]{2})|([0-7]{1,3})|([abfnrtv\\?'"]))/g, (_m, hex: string | undefined, oct: string | undefined, e: string | undefined) => {
    if (hex !== undefined) return chr(parseInt(hex, 16));
    if (oct !== undefined) return chr(parseInt(oct, 8) & 0xff);
    return JS_ESCAPES[e!] ?? e!;
  });
}

function cssDecode(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c === '\\' ? '' : c;
      continue;
    }
    const m = /^[0-9a-fA-F]{1,6}/.exec(s.slice(i + 1, i + 7));
    if (m !== null) {
      out += unicodeByte(parseInt(m[0], 16));
      i += m[0].length;
      if (s[i + 1] === ' ') i++; // one whitespace ends an escape
    } else if (s[i + 1] === '\n') {
      i++; // an escaped newline is a line continuation
    } else {
      out += s[i + 1];
      i++;
    }
  }
  return out;
}

/** ModSecurity's cmdLine: what a shell or cmd.exe would read. */
function cmdLine(s: string): string {
  let out = '';
  let space = false;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c === 0x5c || c === 0x22 || c === 0x27 || c === 0x5e) continue; // \ " ' ^
    if (c === 0x2c || c === 0x3b || isWs(c)) {
      space = true;
      continue;
    }
    if (space) {
      // Spaces before / and ( are dropped; any other run is one space.
      if (c !== 0x2f && c !== 0x28 && out !== '') out += ' ';
      space = false;
    }
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    out += chr(c);
  }
  if (space) out += ' ';
  return out;
}

function compressWhitespace(s: string): string {
  let has = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isWs(c) && (c !== 0x20 || isWs(s.charCodeAt(i + 1)))) {
      has = true;
      break;
    }
  }
  if (!has) return s;
  return s.replace(/[\t-\r \xa0]+/g, ' ');
}

function removeWhitespace(s: string): string {
  return /[\t-\r \xa0]/.test(s) ? s.replace(/[\t-\r \xa0]+/g, '') : s;
}

function replaceComments(s: string): string {
  let i = s.indexOf('/*');
  if (i < 0) return s;
  let out = '';
  let from = 0;
  while (i >= 0) {
    out += s.slice(from, i) + ' ';
    const end = s.indexOf('*/', i + 2);
    if (end < 0) return out;
    from = end + 2;
    i = s.indexOf('/*', from);
  }
  return out + s.slice(from);
}

function removeComments(s: string): string {
  return s.replace(/\/\*[\s\S]*?(?:\*\/|$)|<!--[\s\S]*?(?:-->|$)|--[^\n]*|#[^\n]*/g, '');
}

function removeCommentsChar(s: string): string {
  return s.replace(/\/\*|\*\/|<!--|-->|--|#/g, '');
}

function normalizePath(s: string, win: boolean): string {
  let p = win && s.indexOf('\\') >= 0 ? s.replace(/\\/g, '/') : s;
  if (p.indexOf('/') < 0 && p.indexOf('.') < 0) return p;
  const absolute = p.startsWith('/');
  const trailing = p.endsWith('/') || p.endsWith('/.') || p.endsWith('/..');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
      continue;
    }
    out.push(seg);
  }
  p = (absolute ? '/' : '') + out.join('/') + (trailing && out.length > 0 ? '/' : '');
  return p;
}

/** UTF-8 sequences → %uXXXX, as ModSecurity's utf8toUnicode writes them. */
function utf8toUnicode(s: string): string {
  let i = 0;
  for (; i < s.length; i++) if (s.charCodeAt(i) >= 0xc0) break;
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const b = s.charCodeAt(i);
    const cont = (k: number): boolean => (s.charCodeAt(i + k) & 0xc0) === 0x80;
    let cp = -1;
    let len = 1;
    if ((b & 0xe0) === 0xc0 && cont(1)) {
      cp = ((b & 0x1f) << 6) | (s.charCodeAt(i + 1) & 0x3f);
      len = 2;
    } else if ((b & 0xf0) === 0xe0 && cont(1) && cont(2)) {
      cp = ((b & 0x0f) << 12) | ((s.charCodeAt(i + 1) & 0x3f) << 6) | (s.charCodeAt(i + 2) & 0x3f);
      len = 3;
    } else if ((b & 0xf8) === 0xf0 && cont(1) && cont(2) && cont(3)) {
      cp = ((b & 0x07) << 18) | ((s.charCodeAt(i + 1) & 0x3f) << 12) | ((s.charCodeAt(i + 2) & 0x3f) << 6) | (s.charCodeAt(i + 3) & 0x3f);
      len = 4;
    }
    if (cp < 0) {
      out += s[i];
      continue;
    }
    out += '%u' + cp.toString(16).padStart(4, '0');
    i += len - 1;
  }
  return out;
}

function base64Decode(s: string, ext: boolean): string {
  const clean = ext ? s.replace(/[^A-Za-z0-9+/]/g, '') : (/^[A-Za-z0-9+/]*/.exec(s)?.[0] ?? '');
  return Buffer.from(clean, 'base64').toString('latin1');
}

function hexDecode(s: string): string {
  let out = '';
  for (let i = 0; i + 1 < s.length; i += 2) {
    const h = hexVal(s.charCodeAt(i)), l = hexVal(s.charCodeAt(i + 1));
    if (h < 0 || l < 0) return out;
    out += chr(h * 16 + l);
  }
  return out;
}

function sqlHexDecode(s: string): string {
  return s.replace(/0x((?:[0-9a-fA-F]{2})+)/g, (_m, hex: string) => hexDecode(hex));
}

const digest = (alg: string) => (s: string): string => createHash(alg).update(Buffer.from(s, 'latin1')).digest().toString('latin1');

/** Every transformation by its lower-cased name; `none` is handled by the parser. */
export const TRANSFORMS: ReadonlyMap<string, TransformFn> = new Map<string, TransformFn>([
  ['lowercase', (s) => s.toLowerCase()],
  ['uppercase', (s) => s.toUpperCase()],
  ['urldecode', (s) => urlDecode(s, false)],
  ['urldecodeuni', (s) => urlDecode(s, true)],
  ['htmlentitydecode', htmlEntityDecode],
  ['jsdecode', jsDecode],
  ['cssdecode', cssDecode],
  ['escapeseqdecode', escapeSeqDecode],
  ['cmdline', cmdLine],
  ['compresswhitespace', compressWhitespace],
  ['removewhitespace', removeWhitespace],
  ['removenulls', (s) => (s.indexOf('\0') < 0 ? s : s.replace(/\0/g, ''))],
  ['replacenulls', (s) => (s.indexOf('\0') < 0 ? s : s.replace(/\0/g, ' '))],
  ['replacecomments', replaceComments],
  ['removecomments', removeComments],
  ['removecommentschar', removeCommentsChar],
  ['normalizepath', (s) => normalizePath(s, false)],
  ['normalisepath', (s) => normalizePath(s, false)],
  ['normalizepathwin', (s) => normalizePath(s, true)],
  ['normalisepathwin', (s) => normalizePath(s, true)],
  ['utf8tounicode', utf8toUnicode],
  ['base64decode', (s) => base64Decode(s, false)],
  ['base64decodeext', (s) => base64Decode(s, true)],
  ['hexdecode', hexDecode],
  ['hexencode', (s) => Buffer.from(s, 'latin1').toString('hex')],
  ['sqlhexdecode', sqlHexDecode],
  ['length', (s) => String(s.length)],
  ['trim', (s) => s.replace(/^[\t-\r ]+|[\t-\r ]+$/g, '')],
  ['trimleft', (s) => s.replace(/^[\t-\r ]+/, '')],
  ['trimright', (s) => s.replace(/[\t-\r ]+$/, '')],
  ['sha1', digest('sha1')],
  ['md5', digest('md5')],
]);

/**
 * Transformations that are the identity on a plain value (isPlain), bar ASCII case, which the
 * prefilter ignores anyway: for such a value the prefilter can read the raw value instead of
 * computing the chain. Left out: those that can join text into a new literal (removeWhitespace,
 * removeCommentsChar), decode digits (hexDecode, sqlHexDecode, base64Decode) or replace the value
 * (length, sha1, md5, hexEncode).
 */
export const PLAIN_SAFE: ReadonlySet<string> = new Set([
  'lowercase', 'uppercase', 'urldecode', 'urldecodeuni', 'htmlentitydecode', 'jsdecode', 'cssdecode', 'escapeseqdecode',
  'cmdline', 'compresswhitespace', 'removenulls', 'replacenulls', 'replacecomments', 'removecomments', 'normalizepath',
  'normalisepath', 'normalizepathwin', 'normalisepathwin', 'utf8tounicode', 'trim', 'trimleft', 'trimright',
]);

/**
 * Letters, digits, single spaces and `_ . : @ = -`: nothing any PLAIN_SAFE transformation acts on
 * (no % + & \ / * # quotes , ; ( ) < > ^, no control, no byte past ASCII, no whitespace run).
 */
export function isPlain(s: string): boolean {
  let prevSpace = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e || c === 0x3a || c === 0x40 || c === 0x3d || c === 0x2d) {
      prevSpace = false;
      continue;
    }
    if (c === 0x20 && !prevSpace && i > 0) {
      prevSpace = true;
      continue;
    }
    return false;
  }
  return !prevSpace;
}
