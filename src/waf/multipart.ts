/**
 * multipart/form-data for the WAF (RFC 7578): field names, file names and the content of text
 * parts. Binary parts (images, archives, octet streams) are skipped: signatures are text and
 * binary data matches them by chance. SVG is XML and counts as text (XXE and script in uploads).
 * Line ends may be CRLF or bare LF, as lenient servers accept both.
 */
import type { RuleSet, Scan } from './engine.js';
import { S_BODY } from './exclusions.js';
import { T_FILENAME, T_FORM, T_NAME, T_VALUE } from './rule.js';
import { isTextType } from './content-type.js';

const MAX_PARTS = 1000;

/** The `boundary` parameter of a multipart Content-Type, or null. */
export function boundaryOf(contentType: string): string | null {
  const m = /;\s{0,8}boundary\s{0,8}=\s{0,8}(?:"([^"]{1,200})"|([^\s;]{1,200}))/i.exec(contentType);
  if (m === null) return null;
  return m[1] ?? m[2] ?? null;
}

function param(header: string, name: string): string | null {
  const lower = header.toLowerCase();
  let at = 0;
  for (;;) {
    const i = lower.indexOf(name + '=', at);
    if (i < 0) return null;
    const before = i === 0 ? ';' : lower[i - 1]!;
    if (before === ';' || before === ' ' || before === '\t') {
      let v = header.slice(i + name.length + 1);
      if (v.startsWith('"')) {
        const close = v.indexOf('"', 1);
        return close < 0 ? v.slice(1) : v.slice(1, close);
      }
      const semi = v.indexOf(';');
      if (semi >= 0) v = v.slice(0, semi);
      return v.trim();
    }
    at = i + 1;
  }
}

/** Returns false when the body has no part with this boundary (the caller then scans it as text). */
export function scanMultipart(rules: RuleSet, scan: Scan, text: string, boundary: string): boolean {
  const delim = '--' + boundary;
  let pos = text.indexOf(delim);
  if (pos < 0) return false;
  // The next blank line of each kind at or after the current head (-1: none left), searched
  // again only once passed: a body of parts that lack one kind must not have each part search
  // to the far end for it (issue 22).
  let lf = text.indexOf('\n\n', pos);
  let crlf = text.indexOf('\r\n\r\n', pos);
  for (let parts = 0; parts < MAX_PARTS; parts++) {
    pos += delim.length;
    if (text.startsWith('--', pos)) return true; // closing delimiter
    const lineEnd = text.indexOf('\n', pos);
    if (lineEnd < 0) return true;
    const headStart = lineEnd + 1;
    if (lf >= 0 && lf < headStart) lf = text.indexOf('\n\n', headStart);
    if (crlf >= 0 && crlf < headStart) crlf = text.indexOf('\r\n\r\n', headStart);
    let headEnd = lf;
    if (crlf >= 0 && (headEnd < 0 || crlf < headEnd)) headEnd = crlf;
    const head = headEnd < 0 ? text.slice(headStart) : text.slice(headStart, headEnd);
    const bodyStart = headEnd < 0 ? text.length : text.startsWith('\r\n\r\n', headEnd) ? headEnd + 4 : headEnd + 2;
    let next = text.indexOf('\n' + delim, bodyStart);
    const bodyEnd = next < 0 ? text.length : text.charCodeAt(next - 1) === 0x0d ? next - 1 : next;
    inspectPart(rules, scan, head, text.slice(bodyStart, Math.max(bodyStart, bodyEnd)));
    if (next < 0) return true; // cut off at the inspection bound
    next += 1;
    pos = next;
  }
  return true;
}

function inspectPart(rules: RuleSet, scan: Scan, head: string, body: string): void {
  let name = '';
  let filename: string | null = null;
  let type: string | null = null;
  for (const rawLine of head.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const field = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (field === 'content-disposition') {
      name = param(value, 'name') ?? '';
      filename = param(value, 'filename*') ?? param(value, 'filename');
    } else if (field === 'content-type') {
      type = value;
    }
  }
  if (name !== '') rules.inspect(scan, T_NAME, name, S_BODY, name);
  if (filename !== null) rules.inspect(scan, T_VALUE | T_FILENAME, filename, S_BODY, name);
  if (type === null || isTextType(type)) rules.inspect(scan, T_VALUE | T_FORM, body, S_BODY, name);
}
