/**
 * Argument parsing for the WAF: query strings and urlencoded form bodies (`a=1&b=2`, `+` is a
 * space) and Cookie headers. Each name and value goes straight to the engine; nothing is
 * collected, so a clean query costs no allocation beyond the substrings themselves.
 */
import { urlDecodeOnce } from './decode.js';
import type { RuleSet, Scan } from './engine.js';
import { S_COOKIE, type Source } from './exclusions.js';
import { T_NAME, T_URLENC, T_VALUE } from './rule.js';
import { TOO_MANY_ARGS } from './rules/protocol.js';

/** Query arguments inspected per request; past it the request scores TOO_MANY_ARGS. */
export const MAX_QUERY_ARGS = 256;
/** Cookies inspected per request (Node caps the header size anyway). */
const MAX_COOKIES = 256;

/** `+` → space, then one round of %-decoding (the WAF transforms decode further rounds). */
export function formDecode(s: string): string {
  const plus = s.includes('+') ? s.split('+').join(' ') : s;
  return urlDecodeOnce(plus);
}

/**
 * Inspects every `name=value` of `text` (a query string or a form body). `valueBits` is
 * T_VALUE|T_URLENC for a query, T_VALUE|T_FORM for a body; `maxArgs` 0 means unbounded (a body
 * is bounded by inspectBodyBytes already).
 */
export function inspectArgs(rules: RuleSet, scan: Scan, text: string, valueBits: number, source: Source, maxArgs: number): void {
  let start = 0;
  let count = 0;
  // The next '=' at or after `start` (-1: none left), searched again only once passed: a run of
  // fields without '=' must not each search to the far end (issue 22).
  let eq = text.indexOf('=');
  while (start <= text.length) {
    let end = text.indexOf('&', start);
    if (end < 0) end = text.length;
    if (end > start) {
      if (maxArgs > 0 && ++count > maxArgs) {
        if (!scan.has(TOO_MANY_ARGS.id) && !scan.exclusions.excludes(TOO_MANY_ARGS.id, source, '')) scan.add(TOO_MANY_ARGS);
        return;
      }
      if (eq >= 0 && eq < start) eq = text.indexOf('=', start);
      const hasValue = eq >= 0 && eq < end;
      const name = formDecode(text.slice(start, hasValue ? eq : end));
      rules.inspect(scan, T_NAME, name, source, name);
      if (hasValue) rules.inspect(scan, valueBits, formDecode(text.slice(eq + 1, end)), source, name);
    }
    start = end + 1;
  }
}

/** Inspects the cookies of a Cookie header (`a=1; b=2`): names as names, values decoded once. */
export function inspectCookies(rules: RuleSet, scan: Scan, header: string): void {
  let start = 0;
  let count = 0;
  let eq = header.indexOf('='); // as in inspectArgs: the next '=', searched again only once passed
  while (start < header.length && count++ < MAX_COOKIES) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    let s = start;
    while (s < end && header.charCodeAt(s) === 0x20) s++;
    if (end > s) {
      if (eq >= 0 && eq < s) eq = header.indexOf('=', s);
      const hasValue = eq >= 0 && eq < end;
      const name = header.slice(s, hasValue ? eq : end);
      rules.inspect(scan, T_NAME, name, S_COOKIE, name);
      if (hasValue) rules.inspect(scan, T_VALUE | T_URLENC, urlDecodeOnce(header.slice(eq + 1, end)), S_COOKIE, name);
    }
    start = end + 1;
  }
}
