/**
 * Decoders for the WAF transforms. Each returns its input string itself when there is nothing to
 * decode (the common case: no allocation), and each is a single linear scan.
 */

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
}

const isCont = (b: number | undefined): boolean => b !== undefined && (b & 0xc0) === 0x80;

/**
 * Lenient UTF-8: overlong forms (`C0 AF`, `E0 80 AF`) decode to the ASCII they spell, as IIS and
 * old Java servers did — an attacker's `..%c0%af` must read as `../` here, whatever the upstream
 * makes of it. Anything else invalid becomes U+FFFD.
 */
function decodeUtf8(bytes: readonly number[]): string {
  let out = '';
  const n = bytes.length;
  for (let k = 0; k < n; k++) {
    const b = bytes[k]!;
    if (b < 0x80) {
      out += String.fromCharCode(b);
    } else if ((b & 0xe0) === 0xc0 && isCont(bytes[k + 1])) {
      out += String.fromCharCode(((b & 0x1f) << 6) | (bytes[k + 1]! & 0x3f));
      k += 1;
    } else if ((b & 0xf0) === 0xe0 && isCont(bytes[k + 1]) && isCont(bytes[k + 2])) {
      out += String.fromCharCode(((b & 0x0f) << 12) | ((bytes[k + 1]! & 0x3f) << 6) | (bytes[k + 2]! & 0x3f));
      k += 2;
    } else if ((b & 0xf8) === 0xf0 && isCont(bytes[k + 1]) && isCont(bytes[k + 2]) && isCont(bytes[k + 3])) {
      const cp = ((b & 0x07) << 18) | ((bytes[k + 1]! & 0x3f) << 12) | ((bytes[k + 2]! & 0x3f) << 6) | (bytes[k + 3]! & 0x3f);
      out += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
      k += 3;
    } else {
      out += '\ufffd';
    }
  }
  return out;
}

/** One round of %XX (UTF-8) and IIS %uXXXX decoding; '+' is left alone (the arg parser did it). */
export function urlDecodeOnce(s: string): string {
  let i = s.indexOf('%');
  if (i < 0) return s;
  let out = s.slice(0, i);
  const bytes: number[] = [];
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const h1 = hexValue(s.charCodeAt(i + 1));
      const h2 = h1 < 0 ? -1 : hexValue(s.charCodeAt(i + 2));
      if (h2 >= 0) {
        bytes.push(h1 * 16 + h2);
        i += 3;
        continue;
      }
      if ((s.charCodeAt(i + 1) | 0x20) === 0x75) {
        const a = hexValue(s.charCodeAt(i + 2));
        const b = hexValue(s.charCodeAt(i + 3));
        const d = hexValue(s.charCodeAt(i + 4));
        const e = hexValue(s.charCodeAt(i + 5));
        if (a >= 0 && b >= 0 && d >= 0 && e >= 0) {
          if (bytes.length) out += decodeUtf8(bytes.splice(0));
          out += String.fromCharCode((a << 12) | (b << 8) | (d << 4) | e);
          i += 6;
          continue;
        }
      }
    }
    if (bytes.length) out += decodeUtf8(bytes.splice(0));
    const next = s.indexOf('%', i + 1);
    const end = next < 0 ? s.length : next;
    out += s.slice(i, end);
    i = end;
  }
  if (bytes.length) out += decodeUtf8(bytes);
  return out;
}

/** Rounds of decoding while the value changes: double and triple encoding are evasion, not data. */
export const MAX_URL_DECODE_ROUNDS = 3;

export function urlDecodeRepeated(s: string): string {
  let cur = s;
  for (let r = 0; r < MAX_URL_DECODE_ROUNDS; r++) {
    const next = urlDecodeOnce(cur);
    if (next === cur) break;
    cur = next;
  }
  return cur;
}

/** Named entities an attacker can use to spell markup or code; names are lower-case (input is). */
const NAMED: ReadonlyMap<string, string> = new Map([
  ['lt', '<'], ['gt', '>'], ['amp', '&'], ['quot', '"'], ['apos', "'"], ['sol', '/'], ['bsol', '\\'],
  ['lpar', '('], ['rpar', ')'], ['colon', ':'], ['semi', ';'], ['tab', '\t'], ['newline', '\n'],
  ['nbsp', ' '], ['equals', '='], ['grave', '`'], ['lsqb', '['], ['rsqb', ']'], ['lbrack', '['],
  ['rbrack', ']'], ['lcub', '{'], ['rcub', '}'], ['lbrace', '{'], ['rbrace', '}'], ['excl', '!'],
  ['quest', '?'], ['num', '#'], ['dollar', '$'], ['percnt', '%'], ['comma', ','], ['period', '.'],
  ['plus', '+'], ['ast', '*'], ['midast', '*'], ['vert', '|'], ['verbar', '|'], ['lowbar', '_'],
  ['commat', '@'], ['hat', '^'], ['circ', '^'], ['hyphen', '-'], ['dash', '-'],
]);

/** `&lt;`, `&#60;`, `&#x3c;` (the `;` optional, as browsers accept), two rounds for `&amp;lt;`. */
export function htmlEntityDecode(s: string): string {
  let cur = s;
  for (let round = 0; round < 2; round++) {
    const next = htmlEntityDecodeOnce(cur);
    if (next === cur) break;
    cur = next;
  }
  return cur;
}

function htmlEntityDecodeOnce(s: string): string {
  let i = s.indexOf('&');
  if (i < 0) return s;
  let out = '';
  let from = 0;
  while (i >= 0) {
    let j = i + 1;
    let decoded: string | null = null;
    if (s.charCodeAt(j) === 0x23 /* # */) {
      j++;
      let cp = 0;
      let digits = 0;
      const hex = (s.charCodeAt(j) | 0x20) === 0x78;
      if (hex) j++;
      for (; digits < 8; digits++, j++) {
        const c = s.charCodeAt(j);
        const v = hex ? hexValue(c) : c >= 0x30 && c <= 0x39 ? c - 0x30 : -1;
        if (v < 0) break;
        cp = cp * (hex ? 16 : 10) + v;
      }
      if (digits > 0 && cp <= 0x10ffff) decoded = String.fromCodePoint(cp);
    } else {
      let k = j;
      while (k < s.length && k - j < 8) {
        const c = s.charCodeAt(k);
        if (c < 0x61 || c > 0x7a) break;
        k++;
      }
      const hit = NAMED.get(s.slice(j, k));
      if (hit !== undefined) {
        decoded = hit;
        j = k;
      }
    }
    if (decoded !== null) {
      if (s.charCodeAt(j) === 0x3b /* ; */) j++;
      out += s.slice(from, i) + decoded;
      from = j;
    }
    i = s.indexOf('&', i + 1);
    if (i >= 0 && i < from) i = s.indexOf('&', from);
  }
  return from === 0 ? s : out + s.slice(from);
}

/** JavaScript string escapes `\uXXXX`, `\u{X…}` and `\xHH`, which script sinks decode for an attacker. */
export function jsUnescape(s: string): string {
  let i = s.indexOf('\\');
  if (i < 0) return s;
  let out = '';
  let from = 0;
  while (i >= 0) {
    const kind = s.charCodeAt(i + 1) | 0x20;
    let cp = -1;
    let end = i;
    if (kind === 0x75 /* u */) {
      if (s.charCodeAt(i + 2) === 0x7b /* { */) {
        let v = 0;
        let k = i + 3;
        for (; k < i + 9; k++) {
          const h = hexValue(s.charCodeAt(k));
          if (h < 0) break;
          v = v * 16 + h;
        }
        if (k > i + 3 && s.charCodeAt(k) === 0x7d && v <= 0x10ffff) {
          cp = v;
          end = k + 1;
        }
      } else {
        const a = hexValue(s.charCodeAt(i + 2));
        const b = hexValue(s.charCodeAt(i + 3));
        const c = hexValue(s.charCodeAt(i + 4));
        const d = hexValue(s.charCodeAt(i + 5));
        if (a >= 0 && b >= 0 && c >= 0 && d >= 0) {
          cp = (a << 12) | (b << 8) | (c << 4) | d;
          end = i + 6;
        }
      }
    } else if (kind === 0x78 /* x */) {
      const a = hexValue(s.charCodeAt(i + 2));
      const b = hexValue(s.charCodeAt(i + 3));
      if (a >= 0 && b >= 0) {
        cp = (a << 4) | b;
        end = i + 4;
      }
    }
    if (cp >= 0) {
      out += s.slice(from, i) + String.fromCodePoint(cp);
      from = end;
      i = s.indexOf('\\', end);
    } else {
      i = s.indexOf('\\', i + 1);
    }
  }
  return from === 0 ? s : out + s.slice(from);
}
