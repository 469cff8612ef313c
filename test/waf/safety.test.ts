/**
 * Every rule is safe on attacker input (src/waf/rule.ts, file comment):
 * 1. the pattern lint — no unbounded quantifier, no quantified group holding a quantifier or an
 *    alternation (the shapes that make a backtracking engine super-linear);
 * 2. a timing bound — every rule on every transformed form of 64 KB adversarial strings built
 *    from long runs of special characters and of the rule's own literal fragments;
 * 3. the whole engine on a 64 KB adversarial value, and on a request with many arguments.
 */
import t from 'tap';
import { ALL_RULES } from '../../src/waf/rules/index.js';
import { FormCache } from '../../src/waf/forms.js';
import { FORM_COUNT, type Form, EVERYWHERE, T_ANY_HEADER, T_UA, T_URLENC, T_FORM } from '../../src/waf/rule.js';
import { RuleSet, Scan } from '../../src/waf/engine.js';
import { S_QUERY } from '../../src/waf/exclusions.js';
import { inspectArgs } from '../../src/waf/args.js';

const SIZE = 64 * 1024;
const PER_RULE_MS = 50;

/** Problems of a regex source under the two structural rules; [] when it is linear by construction. */
export function lint(source: string): string[] {
  const problems: string[] = [];
  // A stack of open groups: does the group contain a quantifier or an alternation?
  const stack: { quantified: boolean; alternation: boolean }[] = [{ quantified: false, alternation: false }];
  let i = 0;
  let lastAtomGroup: { quantified: boolean; alternation: boolean } | null = null;
  const markQuantified = (): void => {
    for (const g of stack) g.quantified = true;
  };
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      i += 2;
      lastAtomGroup = null;
      continue;
    }
    if (c === '[') {
      i++;
      if (source[i] === '^') i++;
      if (source[i] === ']') i++;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      i++;
      lastAtomGroup = null;
      continue;
    }
    if (c === '(') {
      stack.push({ quantified: false, alternation: false });
      i++;
      if (source[i] === '?') {
        i++;
        if (source[i] === '<' && source[i + 1] !== '=' && source[i + 1] !== '!') while (source[i] !== '>') i++;
        i++;
      }
      lastAtomGroup = null;
      continue;
    }
    if (c === ')') {
      lastAtomGroup = stack.pop()!;
      if (lastAtomGroup.quantified) markQuantified();
      i++;
      continue;
    }
    if (c === '|') {
      stack[stack.length - 1]!.alternation = true;
      i++;
      continue;
    }
    if (c === '*' || c === '+') {
      problems.push(`unbounded quantifier "${c}" at ${i}`);
      i++;
      continue;
    }
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
      if (m !== null) {
        if (m[2] !== undefined && m[3] === '') problems.push(`open-ended quantifier ${m[0]} at ${i}`);
        const max = Number(m[3] ?? m[1]);
        if (lastAtomGroup !== null && max > 1 && (lastAtomGroup.quantified || lastAtomGroup.alternation)) {
          problems.push(`quantified group with a quantifier or alternation inside at ${i}`);
        }
        markQuantified();
        i += m[0].length;
        if (source[i] === '?') i++;
        lastAtomGroup = null;
        continue;
      }
    }
    if (c === '?') {
      markQuantified();
      i++;
      if (source[i] === '?') i++;
      lastAtomGroup = null;
      continue;
    }
    lastAtomGroup = null;
    i++;
  }
  return problems;
}

void t.test('the lint itself', async (t) => {
  t.same(lint('a{1,3}b?'), []);
  t.same(lint('(?:ab){2}'), [], 'a fixed group repeated is fine');
  t.match(lint('a*'), [/unbounded/]);
  t.match(lint('a+b'), [/unbounded/]);
  t.match(lint('a{2,}'), [/open-ended/]);
  t.match(lint('(?:a{1,3}){1,5}'), [/quantified group/]);
  t.match(lint('(?:a|ab){0,9}'), [/quantified group/]);
  t.same(lint('[*+]\\*\\+'), [], 'literal * and + are not quantifiers');
});

void t.test('every rule pattern is linear by construction', async (t) => {
  for (const rule of ALL_RULES) {
    t.same(lint(rule.pattern.source), [], `${rule.id}: ${rule.pattern.source.slice(0, 80)}`);
    t.notOk(rule.pattern.global || rule.pattern.sticky, `${rule.id}: no g/y flag`);
    t.notOk(rule.pattern.ignoreCase, `${rule.id}: written in lower case, run on lower-cased forms`);
  }
});

/** Literal fragments of a pattern: runs of letters/digits and of the punctuation it names. */
function fragments(source: string): string[] {
  const out = new Set<string>();
  for (const m of source.replace(/\\[dswbDSWB]/g, ' ').replace(/\\(.)/g, '$1').matchAll(/[a-z0-9_]{2,12}|[<>'"`$({[;|&%#=.:/-]{1,4}/g)) out.add(m[0]);
  return [...out].slice(0, 40);
}

function adversarial(rulesource: string): string[] {
  const base = ['a', ' ', "'", '"', '`', '<', '>', '(', ')', '{', '}', '[', ']', '/', '\\', '.', '%', '$', ';', '|', '&', '=', '-', '#', '*', ':', ',', '0', '\n'];
  const out = base.map((c) => c.repeat(SIZE));
  for (const f of fragments(rulesource)) {
    out.push(f.repeat(Math.ceil(SIZE / f.length)).slice(0, SIZE));
    out.push((f + ' ').repeat(Math.ceil(SIZE / (f.length + 1))).slice(0, SIZE));
    out.push(('<a ' + f).repeat(Math.ceil(SIZE / (f.length + 3))).slice(0, SIZE));
  }
  out.push('/*'.repeat(SIZE / 2), '%25'.repeat(SIZE / 3), '../'.repeat(SIZE / 3), '${'.repeat(SIZE / 2), '{{'.repeat(SIZE / 2), '&#'.repeat(SIZE / 2));
  out.push("' or ".repeat(SIZE / 5), 'select '.repeat(SIZE / 7), '<a on'.repeat(SIZE / 5), 'http://'.repeat(SIZE / 7));
  return out;
}

/** Time of one test() call; a slow one is re-measured (min of 3) so a GC pause or a busy CI box is not read as backtracking. */
function timeTest(re: RegExp, s: string): number {
  let best = Infinity;
  for (let k = 0; k < 3; k++) {
    const start = performance.now();
    re.test(s);
    best = Math.min(best, performance.now() - start);
    if (best < 5) break;
  }
  return best;
}

void t.test('every rule stays under the time bound on 64 KB adversarial input', async (t) => {
  const forms = new FormCache();
  let worst = { ms: 0, id: 0 };
  for (const rule of ALL_RULES) {
    // V8 interprets a regex on its first run and compiles it after: time the compiled code.
    rule.pattern.test('warm up');
    rule.pattern.test('warm up');
    let ruleWorst = 0;
    for (const input of adversarial(rule.pattern.source)) {
      forms.reset(input);
      for (const f of rule.forms.length > 0 ? rule.forms : [0 as Form]) ruleWorst = Math.max(ruleWorst, timeTest(rule.pattern, forms.get(f)));
    }
    if (ruleWorst > worst.ms) worst = { ms: ruleWorst, id: rule.id };
    t.ok(ruleWorst < PER_RULE_MS, `${rule.id}: worst ${ruleWorst.toFixed(2)} ms`);
  }
  t.comment(`slowest rule ${worst.id}: ${worst.ms.toFixed(2)} ms`);
});

void t.test('the transforms are linear too', async (t) => {
  const forms = new FormCache();
  for (const input of ['%'.repeat(SIZE), '%25'.repeat(SIZE / 3), '&#'.repeat(SIZE / 2), '\\u'.repeat(SIZE / 2), '/*'.repeat(SIZE / 2), ' \t'.repeat(SIZE / 2), '.'.repeat(SIZE), '\\/'.repeat(SIZE / 2), "''".repeat(SIZE / 2)]) {
    forms.reset(input);
    const start = performance.now();
    for (let f = 0; f < FORM_COUNT; f++) forms.get(f as Form);
    t.ok(performance.now() - start < 200, `all forms of ${JSON.stringify(input.slice(0, 6))}… in ${(performance.now() - start).toFixed(1)} ms`);
  }
});

void t.test('a whole 64 KB adversarial value through every rule of paranoia 4', async (t) => {
  const rules = new RuleSet(4);
  const bits = EVERYWHERE | T_ANY_HEADER | T_UA | T_URLENC | T_FORM;
  for (const input of ["<a on' or 1=1 ${{%25../".repeat(SIZE / 24), 'a'.repeat(SIZE), '<'.repeat(SIZE)]) {
    const scan = new Scan();
    const start = performance.now();
    rules.inspect(scan, bits, input, S_QUERY, 'q');
    const ms = performance.now() - start;
    t.ok(ms < 500, `${JSON.stringify(input.slice(0, 12))}…: ${ms.toFixed(1)} ms`);
  }
});

void t.test('argument count is bounded: past 256 query arguments the request scores 920380', async (t) => {
  const rules = new RuleSet(1);
  const scan = new Scan();
  const query = Array.from({ length: 300 }, (_, i) => `a${i}=1`).join('&') + '&q=%27%20or%201%3D1--';
  inspectArgs(rules, scan, query, T_URLENC, S_QUERY, 256);
  t.same(scan.ids, [920380], 'the payload after the bound is not inspected, the bound itself blocks');
});
