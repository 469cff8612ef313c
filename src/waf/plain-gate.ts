/**
 * The fast path for "plain" values — made only of letters, digits, spaces and `. - _ , / : @ +`,
 * which is most ids, names, dates, e-mail addresses, URLs and prose in API traffic. Such a value
 * cannot hold a quote, markup, a shell operator or an escape, so only a few rules can match it at
 * all, and each of those needs one of the literal triggers below. One combined test of the
 * triggers (built per target kind from the applicable rules) clears a plain value with no regex
 * per rule: the difference between a WAF that costs a few percent and one that halves throughput.
 *
 * Every rule that can match a plain value must list triggers that a matching plain value always
 * contains (lower case; test/waf/plain-gate.test.ts checks this against every positive test case
 * and corpus attack). A rule listed with [] cannot match a plain value; a rule not listed at all
 * is always run.
 */
import { C_ALPHA, C_AT, C_COLON, C_COMMA, C_DASH, C_DIGIT, C_DOT, C_PLUS, C_SLASH, C_SPACE, C_UNDERSCORE } from './chars.js';
import { LiteralSet } from './literal-set.js';
import type { Rule } from './rule.js';

/** Rules on one value per request (User-Agent, the whole path, a file name): the pattern is its own trigger. */
const SELF = ['self'];

export const PLAIN = C_ALPHA | C_DIGIT | C_SPACE | C_DOT | C_DASH | C_UNDERSCORE | C_COMMA | C_SLASH | C_COLON | C_AT | C_PLUS;

const SQL_START = String.raw`^ ?-?\d{1,20} (?:or|and|xor|div|union|order|group|having|procedure|limit)\b`;

/** Rule id → the literal triggers (or, for a few, regex sources marked with a leading "re:"). */
export const PLAIN_TRIGGERS: ReadonlyMap<number, readonly string[]> = new Map<number, readonly string[]>([
  [913100, SELF], [913120, SELF], [930130, SELF], [930140, SELF], [932180, SELF],
  [930110, ['..']], [930111, ['..']], [930112, ['..']], [930113, ['..']],
  [930120, ['etc/', 'proc/', '.ini', 'windows/', 'system32', 'inetpub', '.ssh', '.aws', '.kube', '.docker', 'history', '.git', 'htpasswd', 'wp-config', 'secrets', 'web-inf']],
  [930121, ['var/', 'etc/', 'root/', 'proc/', 'sys/', 'boot/', 'dev/', 'home/', ':/']],
  [931130, ['://']],
  [934110, ['169.254', 'metadata', '100.100.100.200', 'ec2', 'a9fe', 'latest/', '/opc/']],
  [934120, ['//']], [934121, ['//']],
  [934122, ['gopher', 'dict:', 'ldap', 'tftp:', 'rmi:', 'iiop:', 'corba:', 'netdoc', 'sftp:', 'smb:', 'nfs:', 'jar:', 'file:', 'mailto:']],
  [932101, ['nc -', 'ncat', 'netcat', 'sh -', 'cat /', 'head /', 'tail /', 'less /', 'more /', 'wget ', 'curl ', 'python', 'perl -', 'ruby -', 'php -', 'rm -rf', 'chmod ', 'mkfifo']],
  [932120, ['powershell', 'pwsh', 'invoke-', 'iex', 'new-object', 'download', 'frombase64', 'set-mppreference', 'start-process']],
  [932150, ['/dev/', 'nc -', 'ncat', 'netcat', 'sh -i', 'mkfifo', 'socat', 'python', 'perl -e', '-rsocket', 'php -r', 'xterm']],
  [932160, ['bin/']],
  [932170, ['cmd', 'net ', 'certutil', 'bitsadmin', 'wmic', 'mshta', 'rundll32', 'regsvr32', 'cscript', 'wscript', 'reg ', 'schtasks', 'vssadmin', 'whoami']],
  [933110, ['://']],
  [934100, ['child_process', 'process']],
  [934130, ['__proto__', 'prototype']],
  [934143, ['freemarker']],
  [941140, ['script', 'data']],
  [941160, ['document', 'innerhtml', 'outerhtml', 'fromcharcode', 'moz-binding', 'createcontextualfragment']],
  [941180, ['storage']],
  [942150, ['re:' + SQL_START, '--']],
  [942160, ['union']],
  [942180, ['utl_', 'ctxsys', 'dbms_']],
  [942190, ['information_schema', 'pg_', 'mysql.', 'sqlite_', 'sysobjects', 'syscolumns', 'msys', 'sys.', 'tab_columns', 'dba_users']],
  [942200, ['xp_', 'sp_', 'openrow', 'opendatasource', 'bulk insert', 'outfile', 'dumpfile']],
  [942211, ['select']],
  [942260, ['case when']],
  [942300, ['select']],
  [942310, ['--']],
  [944100, ['java', 'runtime', 'processbuilder', 'commons.collections', 'com.sun.', 'ysoserial', 'codehaus', 'forname', 'getclass']],
  [944110, ['ognl', 'xwork', 'allowstaticmethodaccess', 'struts.']],
  [944120, ['class.', 'classloader']],
  [944130, ['ro0ab', 'aced0005']],
  [944151, ['jndi']],
]);

/** Rules that need a character a plain value never has (a quote, <, $, ;, (, %, =, a control …). */
const NEVER_PLAIN = new Set([
  920270, 920271, 921110, 921111, 921120, 921130, 921140, 930100, 931100, 931110, 931120, 932100, 932105, 932110,
  932111, 932130, 932140, 932190, 933100, 933120, 933130, 933150, 933160, 933170, 934131, 934140, 934141, 934142,
  934300, 934310, 941210, 941110, 941120, 941130, 941150, 941170, 941190, 941200, 942100, 942110, 942120, 942130, 942140,
  942141, 942170, 942210, 942220, 942230, 942240, 942250, 942290, 942291, 944140, 944150,
]);

/** The combined trigger test of one target kind: the literals in one automaton pass, then the few regex triggers. */
export class PlainGate {
  readonly #literals: LiteralSet;
  /** Triggers that are patterns (a rule that is its own trigger, an anchored SQL start); null when none. */
  readonly #patterns: RegExp | null;

  constructor(literals: Iterable<string>, patterns: readonly string[]) {
    this.#literals = new LiteralSet([...literals]);
    // Case-insensitive, run on the raw value: no lower-cased copy for the values it clears.
    this.#patterns = patterns.length === 0 ? null : new RegExp(patterns.join('|'), 'i');
  }

  /** Could any rule of this target kind match the plain value `s`? */
  opens(s: string): boolean {
    return this.#literals.foundIn(s) || (this.#patterns !== null && this.#patterns.test(s));
  }
}

/**
 * The combined trigger test for `rules`, or null when one of them is not listed (then plain
 * values get no fast path for this target kind). A tab also opens the gate: browsers drop tabs
 * inside a URL scheme (`java<TAB>script:`), which would hide a trigger.
 */
export function plainGate(rules: readonly Rule[]): PlainGate | null {
  const literals = new Set<string>(['\t']);
  const patterns = new Set<string>();
  for (const r of rules) {
    if (NEVER_PLAIN.has(r.id)) continue;
    const triggers = PLAIN_TRIGGERS.get(r.id);
    if (triggers === undefined) return null;
    if (triggers === SELF) patterns.add(r.pattern.source);
    else for (const t of triggers) {
      if (t.startsWith('re:')) patterns.add(t.slice(3));
      else literals.add(t);
    }
  }
  return new PlainGate(literals, [...patterns]);
}
