// Reads V8 CPU profiles (`node --cpu-prof`, e.g. from `BENCH_CPU_PROF=<dir> npm run bench`) and
// prints where the time went: self time by function and by area (our src/ folders, undici, pino,
// ioredis, node internals, GC …), plus inclusive time of Portcullis's own stages. A flame graph
// (load the .cpuprofile into Chrome DevTools or speedscope) shows the same data; this is the
// text form a review can quote.
//
//   node dist/bench/profile-summary.js <file.cpuprofile> [more …] [--top 40]
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Which part of the system a frame belongs to, from its script URL. */
function areaOf(frame: CallFrame): string {
  const url = frame.url;
  const fn = frame.functionName;
  if (url === '') {
    if (fn === '(garbage collector)') return 'GC';
    if (fn === '(idle)' || fn === '(program)' || fn === '(root)') return fn;
    return 'native';
  }
  const src = /\/dist\/src\/([^/]+)\//.exec(url);
  if (src) return `portcullis ${src[1]}/`;
  if (url.includes('/dist/src/')) return 'portcullis';
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (mod) return mod[1]!;
  if (url.startsWith('node:')) {
    const m = /^node:internal\/([^/]+)/.exec(url);
    return m ? `node ${m[1]}` : `node ${url.slice(5)}`;
  }
  return url;
}

function shortUrl(url: string): string {
  const i = url.lastIndexOf('/dist/');
  if (i >= 0) return url.slice(i + 6);
  const j = url.lastIndexOf('node_modules/');
  if (j >= 0) return url.slice(j + 13);
  return url;
}

function main(): void {
  const args = process.argv.slice(2);
  let top = 40;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--top') top = Number(args[++i]);
    else files.push(args[i]!);
  }
  if (files.length === 0) {
    console.error('usage: profile-summary <file.cpuprofile> [more …] [--top N]');
    process.exit(2);
  }
  const selfByFn = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  const inclusiveByStage = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const file of files) {
    const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const selfUs = new Map<number, number>();
    for (let i = 0; i < p.samples.length; i++) {
      const id = p.samples[i]!;
      selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
    }
    for (const [id, us] of selfUs) {
      const n = byId.get(id)!;
      const area = areaOf(n.callFrame);
      total += us;
      if (area === '(idle)') idle += us;
      selfByArea.set(area, (selfByArea.get(area) ?? 0) + us);
      const key = `${n.callFrame.functionName || '(anonymous)'}  ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
      selfByFn.set(key, (selfByFn.get(key) ?? 0) + us);
      // inclusive time of each Portcullis area on the stack (counted once per sample)
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const a = areaOf(byId.get(cur)!.callFrame);
        if (a.startsWith('portcullis') && !seen.has(a)) {
          seen.add(a);
          inclusiveByStage.set(a, (inclusiveByStage.get(a) ?? 0) + us);
        }
      }
    }
  }
  const busy = total - idle;
  const pct = (us: number): string => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
  const print = (title: string, m: Map<string, number>, n: number): void => {
    console.log(`\n${title}`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  };
  console.log(`${files.length} profile(s): ${(busy / 1e6).toFixed(2)} s busy, ${(idle / 1e6).toFixed(2)} s idle; percentages of busy time`);
  selfByArea.delete('(idle)');
  print('self time by area', selfByArea, 30);
  print('inclusive time of Portcullis code (a frame of that folder anywhere on the stack)', inclusiveByStage, 20);
  print(`self time by function (top ${top})`, selfByFn, top);
}

main();
