/**
 * SecLang directives (lexer.ts) → compiled rules (model.ts), in load order. Handles SecRule,
 * SecAction, SecMarker, chains, SecDefaultAction, and the configure-time exclusions CRS
 * documents (SecRuleRemoveById/ByTag/ByMsg, SecRuleUpdateTargetById/ByTag). A malformed
 * directive throws CrsSyntaxError naming the file and line; a well-formed rule this engine
 * cannot run (a response phase, an operator or variable it does not provide) is recorded in
 * `skipped` with the reason and left out, with the rest of its chain.
 */
import { splitActions, type RawAction } from './actions.js';
import { CrsSyntaxError, type Directive } from './lexer.js';
import { parseMacro } from './macro.js';
import type { Ctl, CrsRule, Disruptive, PhaseItem, SetVar, Skipped } from './model.js';
import { compileOperator, UnsupportedOperator, type OperatorSource } from './operators.js';
import { TRANSFORMS, type TransformFn } from './transforms.js';
import { isKnownVariable, parseVariables, type VarSpec } from './variables.js';

const SEVERITIES: Readonly<Record<string, number>> = {
  emergency: 0, alert: 1, critical: 2, error: 3, warning: 4, notice: 5, info: 6, debug: 7,
};

/** Actions that change nothing this engine models (logging, metadata, persistence). */
const IGNORED_ACTIONS = new Set([
  'ver', 'rev', 'maturity', 'accuracy', 'auditlog', 'noauditlog', 'status', 'initcol', 'setenv', 'expirevar',
  'sanitisematched', 'sanitizematched', 'sanitisearg', 'sanitizearg', 'sanitisematchedbytes', 'sanitizematchedbytes',
  'setuid', 'setsid', 'setrsc', 'deprecatevar', 'append', 'prepend', 'xmlns', 'logdata',
]);

/** Directives that configure ModSecurity itself; the gateway owns those settings. */
const IGNORED_DIRECTIVES = new Set([
  'seccomponentsignature', 'secruleengine', 'secrequestbodyaccess', 'secresponsebodyaccess', 'seccollectiontimeout',
  'secrequestbodylimit', 'secrequestbodynofileslimit', 'secrequestbodylimitaction', 'secresponsebodylimit',
  'secresponsebodylimitaction', 'secresponsebodymimetype', 'secpcrematchlimit', 'secpcrematchlimitrecursion',
  'secargumentseparator', 'seccookieformat', 'secunicodemapfile', 'secstatusengine', 'secauditengine', 'secauditlog',
  'secauditlogparts', 'secauditlogtype', 'secauditlogstoragedir', 'secauditlogrelevantstatus', 'secdebuglog',
  'secdebugloglevel', 'sectmpdir', 'secdatadir', 'secuploaddir', 'secuploadkeepfiles', 'secuploadfilemode',
  'secargumentslimit', 'secrequestbodyjsondepthlimit', 'secserversignature', 'secwebappid', 'sechttpblkey',
  'secgeolookupdb', 'secremoterules', 'secremoterulesfailaction', 'secxmlexternalentity', 'secruleperftime',
]);

export interface BuildResult {
  /** Rules and markers of phases 1 and 2, in load order. */
  readonly phases: readonly [readonly PhaseItem[], readonly PhaseItem[]];
  readonly skipped: readonly Skipped[];
  /** Rules whose pattern was not proven linear (safety.ts), by id. */
  readonly bounded: readonly number[];
  readonly ruleCount: number;
}

interface Pending {
  head: CrsRule | null;
  tail: CrsRule | null;
  skipReason: string | null;
  id: number;
  file: string;
  line: number;
  phase: number;
}

export class RuleBuilder {
  readonly #items: { phase: number; item: PhaseItem }[] = [];
  readonly #skipped: Skipped[] = [];
  readonly #bounded: number[] = [];
  /** The chain being read: a rule with `chain` waits for its next link. */
  #pending: Pending | null = null;
  /** Per phase, the disruptive action of SecDefaultAction (CRS: pass). */
  readonly #defaults = new Map<number, Disruptive>();
  readonly #files: (file: string) => OperatorSource;
  /** Which directives this pass takes: 'rules' (SecRule/SecAction/SecMarker), 'config' (removals/updates) or both. */
  mode: 'all' | 'rules' | 'config' = 'all';

  constructor(files: (file: string) => OperatorSource) {
    this.#files = files;
  }

  add(d: Directive): void {
    const name = d.name.toLowerCase();
    const isRule = name === 'secrule' || name === 'secaction' || name === 'secmarker';
    if (this.mode === 'rules' && !isRule && name.startsWith('secrule')) return;
    if (this.mode === 'config' && isRule) return;
    if (this.#pending !== null && name !== 'secrule') throw new CrsSyntaxError(d.file, d.line, `${d.name} where the chain of the rule at line ${this.#pending.line} expects its next SecRule`);
    switch (name) {
      case 'secrule':
        return this.#rule(d, d.args[0], d.args[1], d.args[2], 3);
      case 'secaction':
        return this.#rule(d, null, null, d.args[0], 1);
      case 'secmarker':
        if (d.args.length !== 1) throw new CrsSyntaxError(d.file, d.line, 'SecMarker takes one name');
        this.#items.push({ phase: 0, item: { marker: d.args[0]! } });
        return;
      case 'secdefaultaction':
        return this.#defaultAction(d);
      case 'secruleremovebyid':
        return this.#removeWhere(d, (r) => d.args.some((a) => inIdRange(r.id, a)));
      case 'secruleremovebytag':
        return this.#removeWhere(d, (r) => d.args.some((a) => r.tags.some((t) => tagRegex(a).test(t))));
      case 'secruleremovebymsg':
        return this.#removeWhere(d, (r) => d.args.some((a) => r.msg === a));
      case 'secruleupdatetargetbyid':
        return this.#updateTargets(d, (r) => inIdRange(r.id, d.args[0] ?? ''));
      case 'secruleupdatetargetbytag':
        return this.#updateTargets(d, (r) => r.tags.some((t) => tagRegex(d.args[0] ?? '').test(t)));
      default:
        if (IGNORED_DIRECTIVES.has(name) || name === 'secruleupdateactionbyid') return;
        throw new CrsSyntaxError(d.file, d.line, `unknown directive ${d.name}`);
    }
  }

  #defaultAction(d: Directive): void {
    const actions = splitActions(d.args[0] ?? '');
    if (typeof actions === 'string') throw new CrsSyntaxError(d.file, d.line, actions);
    const phase = phaseOf(actions.find((a) => a.name === 'phase')?.value ?? '2', d);
    const disruptive = actions.map((a) => a.name).find((n) => DISRUPTIVE.has(n)) as Disruptive | undefined;
    this.#defaults.set(phase, disruptive ?? 'pass');
  }

  #removeWhere(d: Directive, test: (r: CrsRule) => boolean): void {
    for (let i = this.#items.length - 1; i >= 0; i--) {
      const it = this.#items[i]!.item;
      if ('id' in it && test(it)) this.#items.splice(i, 1);
    }
  }

  #updateTargets(d: Directive, test: (r: CrsRule) => boolean): void {
    const vars = parseVariables(d.args[1] ?? '');
    if (typeof vars === 'string') throw new CrsSyntaxError(d.file, d.line, vars);
    for (const { item } of this.#items) {
      if (!('id' in item) || !test(item)) continue;
      for (const v of vars) {
        if (v.exclude) item.excluded.push(v);
        else (item.targets as VarSpec[]).push(v);
      }
    }
  }

  #rule(d: Directive, varsText: string | null | undefined, opText: string | null | undefined, actionsText: string | undefined, maxArgs: number): void {
    if (d.args.length > maxArgs || (varsText === undefined && maxArgs === 3) || (maxArgs === 3 && opText === undefined)) {
      throw new CrsSyntaxError(d.file, d.line, `${d.name} takes ${maxArgs === 3 ? 'variables, an operator and actions' : 'one action list'}`);
    }
    const actions = splitActions(actionsText ?? '');
    if (typeof actions === 'string') throw new CrsSyntaxError(d.file, d.line, actions);
    const link = this.#pending;
    const a = readActions(actions, d, link !== null);
    let skipReason: string | null = link?.skipReason ?? null;
    let targets: VarSpec[] = [];
    if (varsText !== null && varsText !== undefined) {
      const parsed = parseVariables(varsText);
      if (typeof parsed === 'string') throw new CrsSyntaxError(d.file, d.line, parsed);
      targets = parsed;
      const unknown = parsed.find((v) => !isKnownVariable(v));
      if (unknown !== undefined) skipReason ??= `variable ${unknown.collection} is not available to a request-side engine`;
    }
    const phase = link?.phase ?? a.phase;
    if (phase > 2) skipReason ??= `phase ${phase} (response/logging) rules are not run`;
    let negated = false;
    let opName = 'unconditionalMatch';
    let opArg = '';
    if (opText !== null && opText !== undefined) {
      let t = opText.trimStart();
      if (t.startsWith('!')) {
        negated = true;
        t = t.slice(1).trimStart();
      }
      if (t.startsWith('@')) {
        const sp = t.search(/\s/);
        opName = sp < 0 ? t.slice(1) : t.slice(1, sp);
        opArg = sp < 0 ? '' : t.slice(sp + 1);
      } else {
        opName = 'rx';
        opArg = t;
      }
    }
    let operator = null;
    if (skipReason === null) {
      try {
        operator = compileOperator(opName, opArg, this.#files(d.file));
      } catch (err) {
        if (err instanceof UnsupportedOperator) skipReason = err.message;
        else throw new CrsSyntaxError(d.file, d.line, err instanceof Error ? err.message : String(err));
      }
    }
    const id = link?.id ?? a.id;
    if (operator !== null && !operator.proven && operator.regex !== null) this.#bounded.push(id);
    const rule: CrsRule | null = operator === null ? null : {
      id: link === null ? a.id : 0, file: d.file, line: d.line, phase,
      targets: targets.filter((v) => !v.exclude), excluded: targets.filter((v) => v.exclude),
      negated, operator, operatorName: opName, transforms: a.transforms, transformKey: a.transformKey,
      multiMatch: a.multiMatch, capture: a.capture,
      disruptive: a.disruptive === 'block' ? (this.#defaults.get(phase) ?? 'pass') : a.disruptive,
      setvars: a.setvars, ctls: a.ctls, skipAfter: a.skipAfter, skip: a.skip, log: a.log, severity: a.severity,
      tags: a.tags, msg: a.msg, chain: null, action: varsText === null, prefilter: null,
      targetKey: null, plainSafe: false, memoIndex: -1, chainNode: -1, transformNames: a.transformNames,
    };
    const pending: Pending = link ?? { head: null, tail: null, skipReason: null, id, file: d.file, line: d.line, phase };
    pending.skipReason = skipReason;
    if (rule !== null && skipReason === null) {
      if (pending.tail === null) pending.head = rule;
      else pending.tail.chain = rule;
      pending.tail = rule;
    }
    if (a.chain) {
      this.#pending = pending;
      return;
    }
    this.#pending = null;
    if (pending.skipReason !== null) {
      this.#skipped.push({ id: pending.id, file: pending.file, line: pending.line, reason: pending.skipReason });
      return;
    }
    this.#items.push({ phase: pending.phase, item: pending.head! });
  }

  /** The rules loaded; throws when a chain was left open at the end of the last file. */
  finish(): BuildResult {
    if (this.#pending !== null) throw new CrsSyntaxError(this.#pending.file, this.#pending.line, 'chain without its next rule at the end of the file');
    const p1: PhaseItem[] = [];
    const p2: PhaseItem[] = [];
    let count = 0;
    for (const { phase, item } of this.#items) {
      if (phase === 0) {
        p1.push(item);
        p2.push(item);
        continue;
      }
      count++;
      (phase === 1 ? p1 : p2).push(item);
    }
    return { phases: [p1, p2], skipped: this.#skipped, bounded: [...new Set(this.#bounded)], ruleCount: count };
  }

  /** Checks the open chain before another file begins (a chain cannot span files). */
  endFile(file: string): void {
    if (this.#pending !== null) throw new CrsSyntaxError(file, this.#pending.line, 'chain without its next rule at the end of the file');
  }
}

const DISRUPTIVE = new Set(['deny', 'drop', 'block', 'allow', 'pass', 'redirect', 'proxy']);

function phaseOf(v: string, d: Directive): number {
  const p = v === 'request' ? 2 : v === 'response' ? 4 : v === 'logging' ? 5 : Number(v);
  if (!Number.isInteger(p) || p < 1 || p > 5) throw new CrsSyntaxError(d.file, d.line, `bad phase "${v}"`);
  return p;
}

function inIdRange(id: number, spec: string): boolean {
  for (const part of spec.split(/[\s,]+/)) {
    if (part === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) continue;
    if (id >= Number(m[1]) && id <= Number(m[2] ?? m[1])) return true;
  }
  return false;
}

const tagRegexes = new Map<string, RegExp>();
function tagRegex(spec: string): RegExp {
  let re = tagRegexes.get(spec);
  if (re === undefined) {
    try {
      re = new RegExp(spec);
    } catch {
      re = new RegExp(spec.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'));
    }
    tagRegexes.set(spec, re);
  }
  return re;
}

interface Actions {
  id: number;
  phase: number;
  chain: boolean;
  transforms: TransformFn[];
  transformKey: string;
  multiMatch: boolean;
  capture: boolean;
  disruptive: Disruptive;
  setvars: SetVar[];
  ctls: Ctl[];
  skipAfter: string | null;
  skip: number;
  log: boolean;
  severity: number | null;
  tags: string[];
  msg: string;
  transformNames: string[];
}

function readActions(list: readonly RawAction[], d: Directive, isLink: boolean): Actions {
  const a: Actions = {
    id: 0, phase: 2, chain: false, transforms: [], transformKey: '', multiMatch: false, capture: false,
    disruptive: null, setvars: [], ctls: [], skipAfter: null, skip: 0, log: true, severity: null, tags: [], msg: '',
    transformNames: [],
  };
  const names: string[] = [];
  const fail = (msg: string): never => {
    throw new CrsSyntaxError(d.file, d.line, msg);
  };
  for (const { name, value } of list) {
    const v = value ?? '';
    switch (name) {
      case 'id':
        if (!/^\d+$/.test(v)) fail(`bad id "${v}"`);
        a.id = Number(v);
        break;
      case 'phase':
        a.phase = phaseOf(v, d);
        break;
      case 'chain':
        a.chain = true;
        break;
      case 't': {
        const t = v.toLowerCase();
        if (t === 'none') {
          a.transforms = [];
          names.length = 0;
          break;
        }
        const fn = TRANSFORMS.get(t);
        if (fn === undefined) fail(`unknown transformation t:${v}`);
        a.transforms.push(fn!);
        names.push(t);
        break;
      }
      case 'multimatch':
        a.multiMatch = true;
        break;
      case 'capture':
        a.capture = true;
        break;
      case 'setvar':
        a.setvars.push(parseSetvar(v, fail));
        break;
      case 'ctl':
        a.ctls.push(parseCtl(v, fail));
        break;
      case 'skipafter':
        a.skipAfter = v;
        break;
      case 'skip':
        a.skip = Number(v) || 0;
        break;
      case 'log':
        a.log = true;
        break;
      case 'nolog':
        a.log = false;
        break;
      case 'severity': {
        const s = /^\d$/.test(v) ? Number(v) : SEVERITIES[v.toLowerCase()];
        if (s === undefined) fail(`bad severity "${v}"`);
        a.severity = s!;
        break;
      }
      case 'tag':
        a.tags.push(v);
        break;
      case 'msg':
        a.msg = v;
        break;
      case 'exec':
        fail('the exec action is not supported');
        break;
      default:
        if (DISRUPTIVE.has(name)) a.disruptive = name === 'proxy' ? 'pass' : (name as Disruptive);
        else if (!IGNORED_ACTIONS.has(name)) fail(`unknown action ${name}`);
    }
  }
  if (!isLink && a.id === 0) fail('rule without an id');
  if (isLink && a.id !== 0) fail('a chained rule may not have its own id');
  a.transformKey = names.join(',');
  a.transformNames = [...names];
  return a;
}

function parseSetvar(v: string, fail: (m: string) => never): SetVar {
  let text = v.trim();
  let op: SetVar['op'] = '=';
  if (text.startsWith('!')) {
    op = 'delete';
    text = text.slice(1);
  }
  const dot = text.indexOf('.');
  if (dot <= 0) fail(`bad setvar "${v}"`);
  const collection = text.slice(0, dot).toUpperCase();
  const rest = text.slice(dot + 1);
  const eq = rest.indexOf('=');
  let name = eq < 0 ? rest : rest.slice(0, eq);
  let value = eq < 0 ? '1' : rest.slice(eq + 1);
  if (op !== 'delete' && eq >= 0 && (value.startsWith('+') || value.startsWith('-'))) {
    op = value[0] as '+' | '-';
    value = value.slice(1);
  }
  name = name.trim();
  if (name === '') fail(`bad setvar "${v}"`);
  return { op, collection, name: parseMacro(name.toLowerCase()), value: parseMacro(value) };
}

function parseCtl(v: string, fail: (m: string) => never): Ctl {
  const eq = v.indexOf('=');
  if (eq <= 0) fail(`bad ctl "${v}"`);
  const name = v.slice(0, eq).trim().toLowerCase();
  const value = v.slice(eq + 1).trim();
  let target: VarSpec | null = null;
  let ids: [number, number][] = [];
  let tag: RegExp | null = null;
  if (name === 'ruleremovetargetbyid' || name === 'ruleremovetargetbytag' || name === 'ruleremovetargetbymsg') {
    const semi = value.indexOf(';');
    if (semi < 0) fail(`ctl:${name} needs <rule>;<target>`);
    const vars = parseVariables(value.slice(semi + 1));
    if (typeof vars === 'string' || vars.length !== 1) fail(`bad ctl target in "${v}"`);
    target = { ...(vars as VarSpec[])[0]!, exclude: true };
    const sel = value.slice(0, semi);
    if (name === 'ruleremovetargetbyid') ids = idRanges(sel, fail);
    else tag = tagRegex(sel);
  } else if (name === 'ruleremovebyid') {
    ids = idRanges(value, fail);
  } else if (name === 'ruleremovebytag' || name === 'ruleremovebymsg') {
    tag = tagRegex(value);
  }
  return { name, value: parseMacro(value), target, ids, tag };
}

function idRanges(s: string, fail: (m: string) => never): [number, number][] {
  const out: [number, number][] = [];
  for (const part of s.split(/[\s,]+/)) {
    if (part === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) fail(`bad rule id "${part}"`);
    out.push([Number(m![1]), Number(m![2] ?? m![1])]);
  }
  return out;
}
