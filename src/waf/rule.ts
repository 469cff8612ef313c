/**
 * The WAF rule model (PRODUCT §1.10, issue 5).
 *
 * Why plain JavaScript regexes, and how they stay safe. Attacker input meets every pattern here,
 * so no pattern may backtrack catastrophically. Three ways were weighed:
 * - the `re2` package: linear by construction, but a native addon whose install downloads a
 *   prebuilt binary or falls back to node-gyp (a C++ toolchain in CI and in the Dockerfile, and
 *   minutes of `npm ci` on a fresh machine; this workplace cannot download prebuilt binaries at
 *   all). `re2-wasm` avoids the build but copies every string into WASM memory per call and drops
 *   lookbehind. Both cost more than they buy for ~100 short patterns.
 * - a combined automaton (Aho-Corasick over literals plus verification): fast, but the rules
 *   stop being readable regexes and every family turns into bespoke code.
 * - V8's irregexp with patterns that are linear by construction, which is what this engine does:
 *   1. every quantifier is bounded (`?` or `{m,n}`, never `*` or `+`), so one start position
 *      costs at most the product of the bounds along one path, a constant;
 *   2. no quantified group contains another quantifier or an alternation (star height one, no
 *      ambiguous alternation under repetition), so there is no exponential blow-up;
 *   3. unbounded shapes are removed from the input instead of matched: the transforms collapse
 *      whitespace runs to one space, `//` to `/`, `....` to `..`, and strip comments and quote
 *      splitting, so a bounded pattern still sees an arbitrarily padded payload.
 *   test/waf/safety.test.ts lints every pattern for 1 and 2 and times every rule against 64 KB
 *   adversarial inputs (long runs of each rule's own trigger text).
 * Patterns are written in lower case and run on lower-cased forms, without the `i` flag, and
 * never with `g`/`y` (shared regexes must not carry lastIndex state between requests).
 */

/** Anomaly-score contribution of a match, CRS-style. */
export const CRITICAL = 5;
export const ERROR = 4;
export const WARNING = 3;
export const NOTICE = 2;
export type Severity = typeof CRITICAL | typeof ERROR | typeof WARNING | typeof NOTICE;

export type Family =
  | 'protocol' | 'crlf' | 'scanner' | 'lfi' | 'rfi' | 'ssrf' | 'rce' | 'php' | 'java' | 'log4shell'
  | 'ssti' | 'nodejs' | 'xxe' | 'proto-pollution' | 'xss' | 'sqli' | 'nosqli';

/**
 * Where a value came from, as a bit set: a rule runs on a value when the two sets intersect.
 * A query argument value is VALUE|URLENC, a form field VALUE|FORM, a JSON string VALUE; a User-Agent is HEADER|ANY_HEADER|UA; and so on
 * (targets.ts and body.ts assign them).
 */
export const T_VALUE = 1 << 0; // argument values: query, form, multipart text, JSON strings, path segments, cookie values
export const T_NAME = 1 << 1; // argument names: query/form/multipart names, JSON key paths, cookie names
export const T_HEADER = 1 << 2; // inspected header values (User-Agent, Referer, X-Forwarded-*, custom X-… headers)
export const T_ANY_HEADER = 1 << 3; // every header value, including the structural ones (Host, Accept, Content-Type …)
export const T_UA = 1 << 4; // the User-Agent alone
export const T_PATH = 1 << 5; // the whole normalised path
export const T_TEXT = 1 << 6; // a raw text/XML body, or a body that would not parse as its type
export const T_FILENAME = 1 << 7; // multipart file names
export const T_URLENC = 1 << 8; // values that travel in the URL or a header: query arguments and cookie values
export const T_FORM = 1 << 9; // urlencoded form fields and multipart text fields

/** Shorthands for rule declarations. */
export const ARGS = T_VALUE | T_TEXT;
export const ARGS_AND_HEADERS = T_VALUE | T_TEXT | T_HEADER;
export const EVERYWHERE = T_VALUE | T_NAME | T_HEADER | T_ANY_HEADER | T_PATH | T_TEXT | T_FILENAME;

/**
 * The transformation pipelines a rule can ask for (forms.ts computes each once per value).
 * All are lower-cased.
 */
export const Form = {
  /** The value as parsed (one url-decoding for query/form/cookies), lower-cased. */
  Lower: 0,
  /** URL-decoded repeatedly (≤ 3), %uXXXX and overlong UTF-8 included, NFKC, lower-cased. Controls kept. */
  Decoded: 1,
  /** Decoded + HTML entities + JS/CSS escapes, NUL and controls removed, whitespace runs → one space. */
  Norm: 2,
  /** Norm with SQL comments replaced by a space (`/*!…*\/` keeps its content), whitespace collapsed. */
  Sql: 3,
  /** Norm with SQL comments removed outright (`UN/**\/ION` → `UNION`). */
  SqlStrip: 4,
  /** Decoded as a shell reads it: quotes, `\` and `^` removed, `$IFS`/`${IFS}` → space, whitespace collapsed, line breaks kept. */
  Cmd: 5,
  /** Norm with `\` → `/`, `//` → `/`, `/./` → `/`, runs of dots → `..`. */
  Path: 6,
} as const;
export type Form = (typeof Form)[keyof typeof Form];
export const FORM_COUNT = 7;

export interface Rule {
  /** Stable id; ranges per family are documented in docs/waf.md. */
  readonly id: number;
  readonly family: Family;
  readonly severity: Severity;
  /** 1–4: the rule runs when waf.paranoia is at least this. */
  readonly paranoia: 1 | 2 | 3 | 4;
  /** T_* bits: the kinds of value the rule inspects. */
  readonly targets: number;
  /** The forms the pattern is tried on; a match on any is a match. */
  readonly forms: readonly Form[];
  /** Lower-case, bounded, no g/y flag (see the file comment). */
  readonly pattern: RegExp;
  /**
   * Only for a pattern that requires no literal (required-literals.ts): the character classes
   * (chars.ts C_* bits) of which a value must hold one for the pattern to match. Every other
   * rule's pre-filter is derived from its pattern (prefilter.ts), so it cannot drift from it.
   */
  readonly needs?: number;
  /** What the rule detects; for docs and operators, never sent to clients. */
  readonly msg: string;
  /**
   * Argument names the rule does not apply to, tested only after a match. For values whose
   * meaning depends on the parameter: a loopback URL is an SSRF target in `webhook` but the
   * standard native-app redirect in `redirect_uri` (RFC 8252 §7.3).
   */
  readonly unlessName?: RegExp;
}
