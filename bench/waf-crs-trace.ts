// `node dist/bench/waf-crs-trace.js ID… [--corpus DIR] [--crs DIR] [--no-exclusions] [--pcre] [--modsec]`: for corpus
// lines picked by id (a prefix ending in '*' picks many), which CRS rules matched, on which
// variable and value — the tool for finding why a benign request is blocked (issue 18). The
// request is built as `npm run waf:eval` builds it; the rules load as the eval loads them.
// --modsec also sends each line to nginx + libmodsecurity 3 running the same CRS (modsec-oracle.ts)
// and prints the rule ids only one of the two fired, then a summary.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { normaliseTarget } from '../src/route/normalise.js';
import { RequestCtx } from '../src/pipeline/context.js';
import { hostOf } from '../src/pipeline/host.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Evaluator } from '../src/waf/crs/evaluate.js';
import { loadCrs } from '../src/waf/crs/loader.js';
import { lex } from '../src/waf/crs/lexer.js';
import type { CrsRule } from '../src/waf/crs/model.js';
import { isMarker } from '../src/waf/crs/model.js';
import { RuleBuilder } from '../src/waf/crs/parse.js';
import { loadBody, loadHead } from '../src/waf/crs/request.js';
import { Transaction } from '../src/waf/crs/transaction.js';
import { ModsecOracle } from './modsec-oracle.js';
import { crsRulesDir, defaultCrsExclusions, type CrsLine } from './waf-eval-crs.js';
import { asLatin1, toHeaders } from './waf-stage.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const ids: string[] = [];
const corpora: string[] = [];
let crs: string | null = null;
let exclusions = true;
let pcre = false;
let modsec = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '--corpus') corpora.push(resolve(args[++i] ?? ''));
  else if (a === '--crs') crs = args[++i] ?? '';
  else if (a === '--no-exclusions') exclusions = false;
  else if (a === '--pcre') pcre = true;
  else if (a === '--modsec') modsec = true;
  else ids.push(a);
}
if (corpora.length === 0) corpora.push(resolve(root, '..', 'shared', 'waf-corpus'), join(root, 'test', 'waf', 'fixtures'));
const rulesDir = crsRulesDir(root, crs);
if (rulesDir === null) throw new Error('no CRS directory: use --crs DIR');
const loaded = loadCrs({ rulesDir, paranoia: 1, anomalyThreshold: 5, exclusions: exclusions ? defaultCrsExclusions(root) : [] });

// --pcre: the same rules built again with every @rx operator wrapped, so that each value an @rx
// matched is re-checked with PCRE2 itself (grep -P, bytes, no UTF mode: as ModSecurity runs PCRE).
// A match PCRE does not confirm is a translation defect of src/waf/crs/pcre.ts.
interface RxHit { id: number; pattern: string; value: string }
const hits: RxHit[] = [];
let evaluator = loaded.evaluator;
if (pcre) {
  const builder = new RuleBuilder((ruleFile) => ({
    readPhraseFile: (name) => readFileSync(resolve(dirname(ruleFile), name), 'latin1').split('\n').map((l) => l.replace(/\r$/, '').trim()).filter((l) => l !== '' && !l.startsWith('#')),
  }));
  const sources = new Map<string, string>();
  const feed = (file: string, mode: 'all' | 'rules' | 'config'): void => {
    builder.mode = mode;
    for (const d of lex(readFileSync(file, 'latin1'), file)) {
      if (d.name === 'SecRule') sources.set(`${file}:${d.line}`, d.args[1] ?? '');
      builder.add(d);
    }
    builder.endFile(file);
  };
  const excl = exclusions ? defaultCrsExclusions(root) : [];
  for (const f of loaded.files) feed(f, excl.includes(f) ? 'rules' : 'all');
  for (const f of excl) feed(f, 'config');
  const built = builder.finish();
  for (const items of built.phases) {
    for (const it of items) {
      if (isMarker(it)) continue;
      for (let link: CrsRule | null = it; link !== null; link = link.chain) {
        const op = link.operator;
        if (op.name !== 'rx') continue;
        const pattern = (sources.get(`${link.file}:${link.line}`) ?? '').replace(/^!?@rx\s+/, '');
        const id = it.id;
        const orig = op.match.bind(op);
        (op as { match: typeof op.match }).match = (v, ctx, cap) => {
          const r = orig(v, ctx, cap);
          if (r) hits.push({ id, pattern, value: v });
          return r;
        };
      }
    }
  }
  evaluator = new Evaluator(built.phases, false);
}
const tmp = mkdtempSync(join(tmpdir(), 'crs-trace-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
function pcreAgrees(h: RxHit): boolean {
  const f = join(tmp, 'v');
  writeFileSync(f, Buffer.from(h.value, 'latin1'));
  try {
    execFileSync('grep', ['-P', '-z', '-q', '-a', '--', h.pattern, f], { env: { LC_ALL: 'C' } });
    return true;
  } catch {
    return false;
  }
}

const picks = (id: string): boolean => ids.some((p) => (p.endsWith('*') ? id.startsWith(p.slice(0, -1)) : id === p));
/** What ModSecurity logs besides the rules: the anomaly evaluation and reporting rules. */
const REPORTING = (id: number): boolean => id >= 949000 && id < 990000;
const setupFile = loaded.files.find((f) => /crs-setup/.test(f)) ?? (existsSync(join(rulesDir, 'crs-setup.conf.example')) ? join(rulesDir, 'crs-setup.conf.example') : null);
const excluded = exclusions ? defaultCrsExclusions(root) : [];
const oracle = modsec ? await ModsecOracle.start(setupFile, excluded, loaded.files.filter((f) => f !== setupFile && !excluded.includes(f))) : null;
const tally = { lines: 0, blockedHere: 0, blockedThere: 0, differ: 0 };
for (const dir of corpora) {
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
    for (const raw of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (raw.trim() === '') continue;
      const line = JSON.parse(raw) as CrsLine;
      if (!picks(line.id)) continue;
      const target = normaliseTarget(line.uri);
      if (!target.ok) {
        console.log(`${line.id}: refused by path normalisation`);
        continue;
      }
      const hasBody = typeof line.body === 'string' && line.body !== '';
      const framed = line.headers.some(([n]) => /^(content-length|transfer-encoding)$/i.test(n));
      const sent: [string, string][] = line.headers.map(([n, v]) => [asLatin1(n), asLatin1(v)]);
      const pairs: [string, string][] = hasBody && !framed ? [...sent, ['Content-Length', String(Buffer.byteLength(line.body!, 'utf8'))]] : sent;
      const headers = toHeaders(pairs);
      const ctx = new RequestCtx(line.id, '192.0.2.1', 'edge', line.method, hostOf(headers.host), target.path, target.query, 'https', headers, 0n);
      ctx.rawHeaders = pairs.flat();
      const t = new Transaction();
      t.trace = [];
      for (const [k, v] of loaded.initialTx) t.tx.set(k, v);
      loadHead(t, ctx, 'HTTP/1.1');
      hits.length = 0;
      evaluator.run(t, 1, false);
      if (hasBody) loadBody(t, headers['content-type'], Buffer.from(line.body!, 'utf8'));
      evaluator.run(t, 2, false);
      console.log(`${line.id} [${line.family}] ${line.method} ${line.uri.slice(0, 100)} score ${t.tx.get('blocking_inbound_anomaly_score') ?? '?'}`);
      for (const s of t.trace) console.log(`  ${s}`);
      if (oracle !== null) {
        const there = await oracle.send(line);
        const theirs = there.ids.filter((id) => !REPORTING(id));
        const ours = [...new Set(t.matchedIds)];
        const onlyThere = theirs.filter((id) => !ours.includes(id));
        const onlyHere = ours.filter((id) => !theirs.includes(id));
        tally.lines++;
        if (t.interrupted) tally.blockedHere++;
        if (there.status === 403) tally.blockedThere++;
        if (onlyThere.length + onlyHere.length > 0) {
          tally.differ++;
          console.log(`  MODSECURITY ${there.status}: only there [${onlyThere.join(',')}], only here [${onlyHere.join(',')}]`);
        }
      }
      if (pcre) {
        for (const h of hits) if (!pcreAgrees(h)) console.log(`  PCRE DISAGREES: ${h.id} on ${JSON.stringify(h.value.slice(0, 200))}`);
        if (hits.length > 0) console.log(`  (${hits.length} @rx matches re-checked with PCRE2)`);
      }
    }
  }
}
if (oracle !== null) {
  await oracle.stop();
  console.log(`\n${tally.lines} requests: blocked here ${tally.blockedHere}, by ModSecurity ${tally.blockedThere}; rule ids differ on ${tally.differ}`);
}
