/**
 * The operators CRS's request rules use, compiled once per rule. Each `match` answers the
 * operator itself (the rule applies `!`). Arguments with macros (`@lt %{tx.x}`) are expanded per
 * request; a pattern with a macro is compiled per distinct expansion into a small bounded map.
 * `@pm`/`@pmFromFile` phrases go into one Aho–Corasick automaton (literal-set.ts), ASCII case
 * folded as ModSecurity folds it.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { LiteralGroups } from '../literal-set.js';
import { expand, isConstant, parseMacro, type Macro, type MacroResolver } from './macro.js';
import { sqliDetector, xssDetector, type FamilyDetector } from './detectors.js';
import { PcreError, translatePcre } from './pcre.js';
import { checkSafety, PROVEN_INPUT_CHARS, UNPROVEN_INPUT_CHARS } from './safety.js';

export interface MatchContext extends MacroResolver {
  /** Called with TX.0 … TX.9 when the rule captures. */
  capture(index: number, value: string): void;
}

export interface Operator {
  readonly name: string;
  /** The pattern of an @rx without macros, for the prefilter; null otherwise. */
  readonly regex: RegExp | null;
  /** false: the pattern was not proven linear and reads a bounded prefix (safety.ts). */
  readonly proven: boolean;
  /** The answer depends on the value alone (no macro in the argument): it may be remembered. */
  readonly constant: boolean;
  /**
   * For the shared prefilter (evaluate.ts), operators other than @rx: ASCII literals of which a
   * matching value contains at least one (ASCII case ignored); null when there is no such set.
   */
  readonly literals: readonly string[] | null;
  match(value: string, ctx: MatchContext, capture: boolean): boolean;
}

/** An operator this engine does not run: the rule is reported and skipped. */
export class UnsupportedOperator extends Error {}

export interface OperatorSource {
  /** Reads a @pmFromFile data file, relative to the rule file. */
  readPhraseFile(name: string): string[];
}

/** Compiles a PCRE pattern for the CRS engine; throws UnsupportedOperator when it cannot. */
export function compilePattern(pattern: string): { re: RegExp; proven: boolean; reason: string | null } {
  try {
    const t = translatePcre(pattern);
    const re = new RegExp(t.source, t.flags);
    const safety = checkSafety(t.source);
    return { re, proven: safety.proven, reason: safety.reason };
  } catch (err) {
    if (err instanceof PcreError || err instanceof SyntaxError) throw new UnsupportedOperator(`pattern not translatable: ${err.message}`);
    throw err;
  }
}

class Rx implements Operator {
  readonly name = 'rx';
  readonly literals = null; // the prefilter derives an @rx's from its pattern (required-literals.ts)
  readonly regex: RegExp | null;
  readonly proven: boolean;
  readonly constant: boolean;
  readonly #macro: Macro | null;
  readonly #compiled = new Map<string, RegExp>();

  constructor(arg: string) {
    const macro = parseMacro(arg);
    if (isConstant(macro)) {
      const c = compilePattern(arg);
      this.regex = c.re;
      this.proven = c.proven;
      this.constant = true;
      this.#macro = null;
    } else {
      this.regex = null;
      this.proven = false;
      this.constant = false;
      this.#macro = macro;
    }
  }

  match(value: string, ctx: MatchContext, capture: boolean): boolean {
    let re = this.regex;
    if (re === null) {
      const src = expand(this.#macro!, ctx);
      re = this.#compiled.get(src) ?? null;
      if (re === null) {
        try {
          re = compilePattern(src).re;
        } catch {
          return false;
        }
        if (this.#compiled.size >= 64) this.#compiled.clear();
        this.#compiled.set(src, re);
      }
    }
    const limit = this.proven ? PROVEN_INPUT_CHARS : UNPROVEN_INPUT_CHARS;
    const input = value.length > limit ? value.slice(0, limit) : value;
    if (!capture) return re.test(input);
    const m = re.exec(input);
    if (m === null) return false;
    for (let k = 0; k < 10 && k < m.length; k++) ctx.capture(k, m[k] ?? '');
    return true;
  }
}

/** Phrase match, case-insensitive for ASCII. */
class Pm implements Operator {
  readonly name: string;
  readonly regex = null;
  readonly proven = true;
  readonly constant = true;
  readonly #phrases: readonly string[];
  readonly #groups: LiteralGroups | null;
  /** Phrases with non-ASCII bytes, searched one by one (the automaton reads ASCII only). */
  readonly #others: readonly string[];
  readonly #found: Uint32Array;
  /** Every phrase, when all are ASCII: a match contains one of them. */
  readonly literals: readonly string[] | null;

  constructor(name: string, phrases: readonly string[]) {
    this.name = name;
    const lower = [...new Set(phrases.map((p) => p.toLowerCase()).filter((p) => p !== ''))];
    const ascii = lower.filter((p) => /^[^\x80-\uffff]*$/.test(p));
    this.#others = lower.filter((p) => !/^[^\x80-\uffff]*$/.test(p));
    this.#phrases = ascii;
    this.literals = this.#others.length === 0 && ascii.length > 0 ? ascii : null;
    this.#groups = ascii.length > 0 ? new LiteralGroups(ascii.map((p) => [p])) : null;
    this.#found = new Uint32Array(this.#groups?.words ?? 1);
  }

  match(value: string, ctx: MatchContext, capture: boolean): boolean {
    if (this.#groups !== null) {
      const found = this.#found;
      found.fill(0);
      this.#groups.scan(value, found);
      for (let w = 0; w < found.length; w++) {
        if (found[w] === 0) continue;
        if (capture) ctx.capture(0, this.#phrases[w * 32 + (Math.clz32(found[w]! & -found[w]!) ^ 31)]!);
        return true;
      }
    }
    if (this.#others.length > 0) {
      const v = value.toLowerCase();
      for (const p of this.#others) {
        if (v.includes(p)) {
          if (capture) ctx.capture(0, p);
          return true;
        }
      }
    }
    return false;
  }
}

type StringTest = (value: string, arg: string) => boolean;

/** Operators of one string argument, which may hold macros. */
class StringOp implements Operator {
  readonly name: string;
  readonly regex = null;
  readonly proven = true;
  readonly constant: boolean;
  readonly #arg: Macro;
  readonly #test: StringTest;
  readonly literals: readonly string[] | null;

  /** `contained`: a matching value contains the argument (@contains, @streq, @beginsWith …). */
  constructor(name: string, arg: string, test: StringTest, contained = false) {
    this.name = name;
    this.#arg = parseMacro(arg);
    this.constant = isConstant(this.#arg);
    this.#test = test;
    this.literals = contained && this.constant && arg !== '' && /^[^\x80-\uffff]*$/.test(arg) ? [arg.toLowerCase()] : null;
  }

  match(value: string, ctx: MatchContext, capture: boolean): boolean {
    const arg = expand(this.#arg, ctx);
    const ok = this.#test(value, arg);
    if (ok && capture) ctx.capture(0, value);
    return ok;
  }
}

/** ModSecurity reads numbers as atoi does: leading digits, else 0. */
function toInt(s: string): number {
  const n = parseInt(s.trim(), 10);
  return Number.isNaN(n) ? 0 : n;
}

/** `@detectSQLi`/`@detectXSS` (detectors.ts); TX.0 is the built-in rule that answered, as libinjection's fingerprint would be. */
class Detector implements Operator {
  readonly regex = null;
  readonly literals = null;
  readonly proven = true;
  readonly constant = true;
  constructor(readonly name: string, readonly detector: FamilyDetector) {}

  match(value: string, ctx: MatchContext, capture: boolean): boolean {
    const id = this.detector.detect(value);
    if (id !== 0 && capture) ctx.capture(0, `waf-rule-${id}`);
    return id !== 0;
  }
}

class Fixed implements Operator {
  readonly regex = null;
  readonly literals = null;
  readonly proven = true;
  readonly constant = true;
  constructor(readonly name: string, readonly test: (value: string) => boolean) {}

  match(value: string): boolean {
    return this.test(value);
  }
}

function byteRanges(arg: string): Uint8Array {
  const allowed = new Uint8Array(256);
  for (const part of arg.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(p);
    if (m === null) throw new Error(`bad @validateByteRange range "${p}"`);
    const lo = Number(m[1]), hi = Number(m[2] ?? m[1]);
    if (lo > 255 || hi > 255 || lo > hi) throw new Error(`bad @validateByteRange range "${p}"`);
    for (let b = lo; b <= hi; b++) allowed[b] = 1;
  }
  return allowed;
}

function invalidUrlEncoding(s: string): boolean {
  for (let i = s.indexOf('%'); i >= 0; i = s.indexOf('%', i + 1)) {
    if (!/^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) return true;
  }
  return false;
}

function invalidUtf8(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const b = s.charCodeAt(i);
    if (b < 0x80) continue;
    let len: number;
    let min: number;
    if ((b & 0xe0) === 0xc0) [len, min] = [2, 0x80];
    else if ((b & 0xf0) === 0xe0) [len, min] = [3, 0x800];
    else if ((b & 0xf8) === 0xf0) [len, min] = [4, 0x10000];
    else return true;
    let cp = b & (0xff >> (len + 1));
    for (let k = 1; k < len; k++) {
      const c = s.charCodeAt(i + k);
      if (Number.isNaN(c) || (c & 0xc0) !== 0x80) return true;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return true;
    i += len - 1;
  }
  return false;
}

function ipList(arg: string): BlockList {
  const list = new BlockList();
  for (const raw of arg.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const [addr, bits] = item.split('/') as [string, string | undefined];
    const type = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : null;
    if (type === null) throw new Error(`bad @ipMatch address "${item}"`);
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return list;
}

const UNSUPPORTED = new Set(['rbl', 'geolookup', 'inspectfile', 'verifycc', 'verifycpf', 'verifyssn', 'gsblookup', 'fuzzyhash', 'validatedtd', 'validateschema', 'validatehash']);

/** Compiles `@name arg`; throws UnsupportedOperator for operators it does not run, Error for bad arguments. */
export function compileOperator(name: string, arg: string, src: OperatorSource): Operator {
  const n = name.toLowerCase();
  if (UNSUPPORTED.has(n)) throw new UnsupportedOperator(`operator @${name} is not supported`);
  switch (n) {
    case 'rx':
      return new Rx(arg);
    case 'detectsqli':
      return new Detector('detectSQLi', sqliDetector());
    case 'detectxss':
      return new Detector('detectXSS', xssDetector());
    case 'pm':
      return new Pm('pm', arg.split(/\s+/));
    case 'pmfromfile':
    case 'pmf': {
      const phrases: string[] = [];
      for (const f of arg.split(/\s+/).filter((x) => x !== '')) phrases.push(...src.readPhraseFile(f));
      return new Pm('pmFromFile', phrases);
    }
    case 'streq':
      return new StringOp('streq', arg, (v, a) => v === a, true);
    case 'contains':
      return new StringOp('contains', arg, (v, a) => v.includes(a), true);
    case 'containsword':
      return new StringOp('containsWord', arg, (v, a) => a !== '' && new RegExp(`(?:^|\\W)${a.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')}(?:\\W|$)`).test(v));
    case 'beginswith':
      return new StringOp('beginsWith', arg, (v, a) => v.startsWith(a), true);
    case 'endswith':
      return new StringOp('endsWith', arg, (v, a) => v.endsWith(a), true);
    case 'within':
      return new StringOp('within', arg, (v, a) => v !== '' && a.includes(v));
    case 'strmatch':
      return new StringOp('strmatch', arg, (v, a) => v.includes(a), true);
    case 'eq':
      return new StringOp('eq', arg, (v, a) => toInt(v) === toInt(a));
    case 'ge':
      return new StringOp('ge', arg, (v, a) => toInt(v) >= toInt(a));
    case 'gt':
      return new StringOp('gt', arg, (v, a) => toInt(v) > toInt(a));
    case 'le':
      return new StringOp('le', arg, (v, a) => toInt(v) <= toInt(a));
    case 'lt':
      return new StringOp('lt', arg, (v, a) => toInt(v) < toInt(a));
    case 'validatebyterange': {
      const allowed = byteRanges(arg);
      return new Fixed('validateByteRange', (v) => {
        for (let i = 0; i < v.length; i++) if (allowed[v.charCodeAt(i) & 0xff] === 0) return true;
        return false;
      });
    }
    case 'validateurlencoding':
      return new Fixed('validateUrlEncoding', invalidUrlEncoding);
    case 'validateutf8encoding':
      return new Fixed('validateUtf8Encoding', invalidUtf8);
    case 'ipmatch': {
      const list = ipList(arg);
      return new Fixed('ipMatch', (v) => (isIPv4(v) ? list.check(v, 'ipv4') : isIPv6(v) ? list.check(v, 'ipv6') : false));
    }
    case 'ipmatchfromfile':
    case 'ipmatchf': {
      const list = ipList(src.readPhraseFile(arg.trim()).join(','));
      return new Fixed('ipMatchFromFile', (v) => (isIPv4(v) ? list.check(v, 'ipv4') : isIPv6(v) ? list.check(v, 'ipv6') : false));
    }
    case 'unconditionalmatch':
      return new Fixed('unconditionalMatch', () => true);
    case 'nomatch':
      return new Fixed('noMatch', () => false);
    default:
      throw new UnsupportedOperator(`unknown operator @${name}`);
  }
}
