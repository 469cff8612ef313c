/**
 * Request-target normalisation (PRODUCT §1.4). Runs on every request, before
 * anything matches on the path, so that the path the gateway routes on is the
 * path the upstream acts on: `/public/../admin`, `/public/%2e%2e/admin` and
 * `//admin` all become `/admin`, and every spelling whose meaning differs
 * between servers (`%2f`, `\`, `..;x`, overlong UTF-8, …) is refused (400).
 *
 * Shape: split off `#…` and `?…` with indexOf, one scan to prove the path is
 * already clean (the common case returns it as is), else one decoding pass
 * that resolves segments on a stack. No regex runs on the origin-form path.
 */

export type NormaliseResult =
  | { readonly ok: true; readonly path: string; readonly query: string }
  | { readonly ok: false; readonly reason: string };

const SLASH = 0x2f;
const DOT = 0x2e;
const SEMI = 0x3b;
const PERCENT = 0x25;
const BACKSLASH = 0x5c;

/** Absolute-form (RFC 9112 §3.2.2): only http(s); the authority is dropped, routing uses Host. */
const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*/i;

/** `%XX` with uppercase hex for every byte: the canonical spelling we forward (RFC 3986 §6.2.2.1). */
const ENCODED: readonly string[] = Array.from({ length: 256 }, (_, b) => '%' + b.toString(16).toUpperCase().padStart(2, '0'));

/** RFC 3986 §2.3 unreserved: ALPHA DIGIT - . _ ~ — decoding these never changes meaning (§6.2.2.2). */
const UNRESERVED = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9\-._~]/.test(ch)) UNRESERVED[c] = 1;
}

const fail = (reason: string): NormaliseResult => ({ ok: false, reason });

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20; // ASCII lowercase; NaN (past the end) becomes 32 and fails below
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
}

/** A raw (not percent-encoded) path character we refuse, or null when it is acceptable. */
function rawReject(c: number): string | null {
  if (c === BACKSLASH) return 'backslash'; // Windows/IIS and some frameworks read it as '/'
  if (c === 0) return 'nul';
  // Controls, space, DEL and any non-ASCII: none may appear raw in a request-target (RFC 3986 §2, §3.3).
  if (c < 0x21 || c > 0x7e) return 'bad_character';
  return null;
}

export function normaliseTarget(rawTarget: string): NormaliseResult {
  let target = rawTarget;
  // A '#' never reaches routing: drop it and everything after, in path or query.
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);

  if (target.charCodeAt(0) !== SLASH) {
    // Absolute-form: keep what follows the authority; `http://h` and `http://h?q` mean path '/'.
    const m = ABSOLUTE_FORM.exec(target);
    if (m === null) return fail('not_origin_form'); // '*', authority-form, '', relative paths
    target = target.slice(m[0].length);
    if (target.charCodeAt(0) !== SLASH) target = '/' + target;
  }

  const qm = target.indexOf('?');
  const path = qm < 0 ? target : target.slice(0, qm);
  const query = qm < 0 ? '' : target.slice(qm + 1);
  // The query is not normalised (it is forwarded as sent), but raw controls and spaces,
  // which could split or corrupt the request line upstream, are refused here too.
  for (let i = 0; i < query.length; i++) {
    const c = query.charCodeAt(i);
    if (c < 0x21 || c === 0x7f) return fail(c === 0 ? 'nul' : 'bad_character');
  }

  return isClean(path) ? { ok: true, path, query } : slowPath(path, query);
}

/**
 * True when normalisation would return `path` unchanged: no '%', no bad raw
 * character, no '//' and no segment starting with '.' (covers '.', '..' and
 * '..;x'). A ';' elsewhere is harmless and kept.
 */
function isClean(path: string): boolean {
  let prev = SLASH; // path[0] is '/'
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === PERCENT || rawReject(c) !== null) return false;
    if (prev === SLASH && (c === SLASH || c === DOT)) return false;
    prev = c;
  }
  return true;
}

/** Decode, validate and resolve segment by segment (RFC 3986 §5.2.4 on a segment stack). */
function slowPath(path: string, query: string): NormaliseResult {
  const out: string[] = [];
  let seg = ''; // decoded text of the current segment so far
  let copyFrom = 1; // first raw index of the current segment not yet appended to seg
  // UTF-8 validator state over consecutive percent-encoded bytes >= 0x80 (Unicode Table 3-7):
  // `need` continuation bytes still expected; the next one must lie in [lo, hi].
  let need = 0;
  let lo = 0x80;
  let hi = 0xbf;
  const len = path.length;

  // No loop condition: the virtual '/' at i === len always returns.
  for (let i = 1; ; i++) {
    const c = i < len ? path.charCodeAt(i) : SLASH; // a virtual '/' closes the last segment

    if (c === SLASH) {
      if (need > 0) return fail('invalid_utf8'); // truncated sequence
      seg += path.slice(copyFrom, i);
      copyFrom = i + 1;
      const last = i === len;
      if (seg === '' || seg === '.') {
        // '//' merges; '.' is dropped. Either, when last, leaves the trailing slash.
      } else if (seg === '..') {
        // Never clamp: a path climbing above '/' is an attack, not a typo.
        if (out.pop() === undefined) return fail('path_above_root');
      } else if (seg.charCodeAt(0) === DOT && isDotWithParams(seg)) {
        // `..;x` / `.;x`: Tomcat and other Java servers strip ';' parameters and then see '..'.
        return fail('dot_segment_params');
      } else {
        out.push(seg);
        if (last) return done(out, false, query);
      }
      if (last) return done(out, true, query);
      seg = '';
      continue;
    }

    if (c !== PERCENT) {
      const bad = rawReject(c);
      if (bad !== null) return fail(bad);
      if (need > 0) return fail('invalid_utf8'); // truncated sequence
      continue; // copied later in one slice
    }

    // RFC 3986 §2.1: '%' HEXDIG HEXDIG, nothing else.
    const h1 = hexValue(path.charCodeAt(i + 1));
    const h2 = hexValue(path.charCodeAt(i + 2));
    if (h1 < 0 || h2 < 0) return fail('bad_percent_encoding');
    const b = (h1 << 4) | h2;
    seg += path.slice(copyFrom, i);
    i += 2;
    copyFrom = i + 1;

    if (need > 0) {
      if (b < lo || b > hi) return fail('invalid_utf8');
      need--;
      lo = 0x80;
      hi = 0xbf;
      seg += ENCODED[b];
    } else if (b >= 0x80) {
      // Lead byte. C0/C1 and E0 80..9F / F0 80..8F are overlong (`%c0%ae` is a '.'
      // to lax decoders); ED A0..BF are surrogates; F4 90.. and F5..FF exceed U+10FFFF;
      // 80..BF here is a stray continuation byte.
      if (b >= 0xc2 && b <= 0xdf) need = 1;
      else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        if (b === 0xe0) lo = 0xa0;
        else if (b === 0xed) hi = 0x9f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3;
        if (b === 0xf0) lo = 0x90;
        else if (b === 0xf4) hi = 0x8f;
      } else return fail('invalid_utf8');
      seg += ENCODED[b];
    } else if (b === SLASH) {
      return fail('encoded_slash'); // upstreams disagree on whether %2F splits segments
    } else if (b === BACKSLASH) {
      return fail('backslash');
    } else if (b === 0) {
      return fail('nul'); // C-string truncation upstream
    } else if (b < 0x20 || b === 0x7f) {
      return fail('bad_character');
    } else if (UNRESERVED[b] === 1) {
      seg += String.fromCharCode(b); // `%2e` → '.', `%41` → 'A': one spelling per path
    } else {
      seg += ENCODED[b]; // reserved and other bytes keep their meaning: stay encoded, uppercase hex
    }
  }
}

/** `.;x`, `..;x`, `..;` — and with an encoded `%3B`, which some servers decode before stripping. */
function isDotWithParams(seg: string): boolean {
  const k = seg.charCodeAt(1) === DOT ? 2 : 1;
  return seg.charCodeAt(k) === SEMI || seg.startsWith('%3B', k);
}

function done(out: string[], trailingSlash: boolean, query: string): NormaliseResult {
  const path = out.length === 0 ? '/' : '/' + out.join('/') + (trailingSlash ? '/' : '');
  return { ok: true, path, query };
}

/**
 * Route prefix match on a segment boundary (PRODUCT §3 `match.path`): `/api`
 * matches `/api`, `/api/x` and `/api;x`, never `/apix`. A prefix ending in '/'
 * (`/api/`) matches `/api/` and below but not `/api`; '/' matches every path.
 *
 * Why ';' is a boundary: Java servers (Tomcat, Jetty) strip `;params` from each
 * segment, so `/admin;jsessionid=x` reaches the upstream as `/admin`. Treating
 * ';' as a boundary keeps that request on the `/admin` route instead of letting
 * it fall through to a more permissive one. (Parameters inside an earlier
 * segment, `/admin;x/secret` vs a route `/admin/secret`, are not folded here.)
 */
export function segmentPrefixMatch(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  if (path.length === prefix.length || prefix.charCodeAt(prefix.length - 1) === SLASH) return true;
  const next = path.charCodeAt(prefix.length);
  return next === SLASH || next === SEMI;
}
