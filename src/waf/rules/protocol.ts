/**
 * Protocol anomalies (920xxx), response splitting and header injection (921xxx) and attack
 * tools (913xxx). The CRLF rules need the line breaks, so they run on the Decoded form (which
 * keeps controls) and only on values that travel in URLs, cookies, headers and form fields:
 * JSON and multipart text carry multi-line prose by design.
 */
import { C_CTRL } from '../chars.js';
import { CRITICAL, EVERYWHERE, Form, T_ANY_HEADER, T_HEADER, T_NAME, T_PATH, T_UA, T_URLENC, T_FORM, WARNING, type Rule } from '../rule.js';

const DECODED = [Form.Decoded];

export const PROTOCOL_RULES: readonly Rule[] = [
  {
    id: 913100, family: 'scanner', severity: CRITICAL, paranoia: 1, targets: T_UA, forms: [Form.Lower],
    msg: 'User-Agent of a vulnerability scanner or attack tool',
    pattern: /\b(?:sqlmap|nikto|nmap|masscan|zmap|nuclei|dirbuster|gobuster|dirb|dirsearch|wfuzz|ffuf|feroxbuster|wpscan|joomscan|droopescan|cmsmap|acunetix|netsparker|invicti|appscan|w3af|arachni|skipfish|openvas|nessus|qualys|burp(?: ?suite|collaborator)|zgrab|zmeu|havij|commix|xsstrike|jaeles|whatweb|fimap|metasploit|morfeus|paros|webinspect|nsfocus|jorgee|interactsh|owasp[ _-]zap|zaproxy|brutus|bsqlbf|sqlninja|pangolin|absinthe|webshag|vega\/|cgichk|grabber|teh forest lobster|dotdotpwn|hydra|medusa|wapiti|fuzz faster u fool|nstealth|netlab|l9explore|leakix|censys)\b/,
  },
  {
    id: 913120, family: 'scanner', severity: CRITICAL, paranoia: 1, targets: T_PATH, forms: [Form.Lower],
    msg: 'Path probed by a vulnerability scanner',
    pattern: /nmaplowercheck\d|\/(?:acunetix-wvs-test|nikto-test|sqlmap|w3af|\.nuclei)\b/,
  },
  {
    id: 920270, family: 'protocol', severity: CRITICAL, paranoia: 1, targets: EVERYWHERE | T_ANY_HEADER, forms: DECODED,
    msg: 'NUL byte in the request (path or string truncation)',
    // eslint-disable-next-line no-control-regex -- the NUL byte is what this rule is about
    pattern: /\x00/,
  },
  {
    id: 920271, family: 'protocol', severity: WARNING, paranoia: 2, targets: EVERYWHERE, forms: DECODED, needs: C_CTRL,
    msg: 'Control character in the request',
    // eslint-disable-next-line no-control-regex -- control characters are what this rule is about
    pattern: /[\x01-\x08\x0e-\x1f\x7f]/,
  },
  {
    id: 921110, family: 'crlf', severity: CRITICAL, paranoia: 1, targets: T_URLENC | T_NAME | T_HEADER, forms: DECODED,
    msg: 'Header injection: a line break followed by a header name (%0d%0aSet-Cookie:, %0aLocation:)',
    pattern: /[\r\n][ \t]{0,8}(?:set-cookie|location|content-(?:type|length|disposition|security-policy|transfer-encoding)|refresh|host|x-[a-z-]{1,40}|bcc|cc|to|from|reply-to|subject|mime-version|transfer-encoding|access-control-allow-[a-z-]{1,20}|link|status|www-authenticate|sender)[ \t]{0,8}:/,
  },
  {
    id: 921111, family: 'crlf', severity: CRITICAL, paranoia: 1, targets: T_FORM, forms: DECODED,
    msg: 'Mail or HTTP header injection in a form field (\r\nBcc:, \r\nContent-Type:) — words a letter may start a line with (To:, Subject:) excepted',
    pattern: /[\r\n][ \t]{0,8}(?:set-cookie|location|content-(?:type|length|disposition|transfer-encoding)|bcc|cc|reply-to|mime-version|transfer-encoding|x-mailer|return-path)[ \t]{0,8}:/,
  },
  {
    id: 921120, family: 'crlf', severity: CRITICAL, paranoia: 1, targets: T_URLENC | T_NAME | T_HEADER, forms: DECODED,
    msg: 'Response splitting: an empty line (CRLF CRLF) followed by content',
    pattern: /\r?\n\r?\n[ \t]{0,8}(?:<|[a-z-]{1,40}:|http\/\d)/,
  },
  {
    id: 921130, family: 'crlf', severity: CRITICAL, paranoia: 1, targets: T_NAME, forms: DECODED,
    msg: 'Line break in an argument name',
    pattern: /[\r\n]/,
  },
  {
    id: 921140, family: 'crlf', severity: WARNING, paranoia: 2, targets: T_URLENC | T_HEADER, forms: DECODED,
    msg: 'Line break in a query argument, cookie or header',
    pattern: /[\r\n]/,
  },
];

/**
 * A rule that code raises (a parser or the stage) instead of a pattern: critical, paranoia 1,
 * no target, so that the engine never runs it on a value (its pattern matches nothing).
 */
function raised(id: number, msg: string): Rule {
  return { id, family: 'protocol', severity: CRITICAL, paranoia: 1, targets: 0, forms: [], msg, pattern: /(?!)/ };
}

/**
 * Raised by the argument parser: more query arguments than the engine inspects. Critical,
 * because an attacker could otherwise hide a payload behind 256 decoys.
 */
export const TOO_MANY_ARGS = raised(920380, 'Too many query arguments to inspect');

/**
 * Raised by the stage when a body it was meant to inspect cannot be read (issue 22: these
 * bodies went to the upstream uninspected). In block mode they are refused — 415 for a coding
 * the WAF cannot undo, 400 for data invalid for its codings — whatever the threshold: a body the
 * WAF cannot read cannot be said to be clean. An exclusion of the id lets such bodies through
 * uninspected on a route that needs it.
 */
export const UNKNOWN_CODING = raised(920700, 'Inspected body with a Content-Encoding the WAF cannot decode (refused 415 in block mode)');
export const CORRUPT_CODING = raised(920701, 'Inspected body that is not valid for its Content-Encoding (refused 400 in block mode)');

/**
 * Raised when inspection itself failed (a bug: the transforms and parsers are written never to
 * throw). The request is refused in block mode like a match, never answered 500, and the
 * error is logged for the operator.
 */
export const INSPECTION_FAILED = raised(920702, 'Request the WAF failed to inspect (an internal error, logged)');
