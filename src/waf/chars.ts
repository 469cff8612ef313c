/**
 * Character classes for the WAF pre-filter. One pass over a value ORs the class bits of its
 * characters into a mask; a rule whose `needs` mask shares no bit with it cannot match and is
 * skipped without running its regex. Most clean values (ids, names, dates, numbers) clear almost
 * every rule this way, which is what keeps the WAF off the hot path's budget.
 */

export const C_ALPHA = 1 << 0;
export const C_DIGIT = 1 << 1;
export const C_SPACE = 1 << 2; // space, tab, VT, FF
export const C_NL = 1 << 3; // CR, LF
export const C_QUOTE = 1 << 4; // ' " `
export const C_LT = 1 << 5;
export const C_GT = 1 << 6;
export const C_PAREN = 1 << 7; // ( )
export const C_SEMI = 1 << 8;
export const C_PIPE = 1 << 9;
export const C_AMP = 1 << 10;
export const C_DOLLAR = 1 << 11;
export const C_BRACE = 1 << 12; // { }
export const C_BRACKET = 1 << 13; // [ ]
export const C_SLASH = 1 << 14;
export const C_BSLASH = 1 << 15;
export const C_DOT = 1 << 16;
export const C_COLON = 1 << 17;
export const C_EQ = 1 << 18;
export const C_PERCENT = 1 << 19;
export const C_HASH = 1 << 20;
export const C_STAR = 1 << 21;
export const C_DASH = 1 << 22;
export const C_AT = 1 << 23;
export const C_CTRL = 1 << 24; // NUL and the other C0 controls but whitespace, DEL
export const C_NONASCII = 1 << 25;
export const C_PLUS = 1 << 26;
export const C_COMMA = 1 << 27;
export const C_QMARK = 1 << 28;
export const C_MISC = 1 << 29; // ! ^ ~
export const C_UNDERSCORE = 1 << 30;

/** Letters, digits, spaces and `. - _ , / : @ +`: ids, names, dates, e-mail addresses, URLs, tokens. */
export const PLAIN = C_ALPHA | C_DIGIT | C_SPACE | C_DOT | C_DASH | C_UNDERSCORE | C_COMMA | C_SLASH | C_COLON | C_AT | C_PLUS;

/** Characters that a decoding transform can turn into other characters. */
export const C_ENCODING = C_PERCENT | C_AMP | C_BSLASH | C_NONASCII | C_PLUS;

/** ASCII code → its class bit (the table charMask reads; LiteralGroups.scanSkeleton reads it too). */
export const CLASS_OF_ASCII = new Int32Array(128);
const TABLE = CLASS_OF_ASCII;
(function fill(): void {
  for (let c = 0; c < 128; c++) {
    const ch = String.fromCharCode(c);
    let bits = 0;
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) bits = C_ALPHA;
    else if (c >= 0x30 && c <= 0x39) bits = C_DIGIT;
    else if (c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c) bits = C_SPACE;
    else if (c === 0x0a || c === 0x0d) bits = C_NL;
    else if (c < 0x20 || c === 0x7f) bits = C_CTRL;
    else {
      const map: Record<string, number> = {
        "'": C_QUOTE, '"': C_QUOTE, '`': C_QUOTE, '<': C_LT, '>': C_GT, '(': C_PAREN, ')': C_PAREN,
        ';': C_SEMI, '|': C_PIPE, '&': C_AMP, $: C_DOLLAR, '{': C_BRACE, '}': C_BRACE, '[': C_BRACKET,
        ']': C_BRACKET, '/': C_SLASH, '\\': C_BSLASH, '.': C_DOT, ':': C_COLON, '=': C_EQ, '%': C_PERCENT,
        '#': C_HASH, '*': C_STAR, '-': C_DASH, '@': C_AT, '+': C_PLUS, ',': C_COMMA, '?': C_QMARK,
        '!': C_MISC, '^': C_MISC, '~': C_MISC, _: C_UNDERSCORE,
      };
      bits = map[ch] ?? 0;
    }
    TABLE[c] = bits;
  }
})();

/** The OR of the classes of every character of `s`. */
export function charMask(s: string): number {
  let m = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    m |= c < 128 ? TABLE[c]! : C_NONASCII;
  }
  return m;
}
