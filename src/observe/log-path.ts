/**
 * The access log's `path` without path-parameter values (issue 22 §9). A query string is never
 * logged (PRODUCT §6); a `;name=value` parameter carries the same kind of secret — Java servers
 * put the session there (`/app;jsessionid=…`), others tokens — so its value is logged as
 * `[redacted]`, like pino's censor, and the name is kept: `/api;jsessionid=[redacted]/x`.
 * A parameter without '=' is kept as a name (`/api;v2`), as any other path text is.
 *
 * Only a raw ';' starts a parameter: an encoded `%3B` is path text to the servers that split
 * parameters (Tomcat, Jetty), which do so before decoding.
 */

const REDACTED = '[redacted]';
const SLASH = 0x2f;
const SEMI = 0x3b;
const EQUALS = 0x3d;

export function redactPathParams(path: string): string {
  let semi = path.indexOf(';');
  if (semi < 0) return path; // nearly every request: no copy, no scan past indexOf
  let out = '';
  let from = 0;
  while (semi >= 0) {
    // One parameter: from after ';' to the next ';' or '/'.
    let end = semi + 1;
    let eq = -1;
    while (end < path.length) {
      const c = path.charCodeAt(end);
      if (c === SEMI || c === SLASH) break;
      if (c === EQUALS && eq < 0) eq = end;
      end++;
    }
    if (eq >= 0) {
      out += path.slice(from, eq + 1) + REDACTED;
      from = end;
    }
    semi = end < path.length && path.charCodeAt(end) === SEMI ? end : path.indexOf(';', end);
  }
  return out + path.slice(from);
}
