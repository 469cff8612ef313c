// What the benchmark reads about a process under test from /proc (Linux): its resident memory
// and the CPU time it has used, summed over the process and its descendants, so that a row
// running `server.workers: N` (a cluster primary and N workers) is charged for all of them.
// Off Linux every reader answers null and the columns print n/a.
import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat times: USER_HZ, 100 on every mainstream Linux build. */
const USER_HZ = 100;
/** A process tree deeper than this is not something the bench starts; stops a runaway walk. */
const MAX_TREE = 256;

interface StatLine {
  ppid: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
}

async function readStat(pid: number): Promise<StatLine | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: parse after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  const ppid = Number(rest[1]);
  const cpuTicks = Number(rest[11]) + Number(rest[12]);
  return Number.isFinite(ppid) && Number.isFinite(cpuTicks) ? { ppid, cpuTicks } : null;
}

/** `pid` and every live descendant (breadth-first over one scan of /proc). */
export async function processTree(pid: number): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [pid];
  }
  const children = new Map<number, number[]>();
  await Promise.all(entries.map(async (name) => {
    const child = Number(name);
    if (!Number.isInteger(child)) return;
    const stat = await readStat(child);
    if (stat === null) return;
    const list = children.get(stat.ppid);
    if (list === undefined) children.set(stat.ppid, [child]);
    else list.push(child);
  }));
  const tree = [pid];
  for (let i = 0; i < tree.length && tree.length < MAX_TREE; i++) {
    for (const c of children.get(tree[i]!) ?? []) tree.push(c);
  }
  return tree;
}

/** CPU seconds (user + system) used so far by the processes `pids`; null when none could be read. */
export async function readCpuSeconds(pids: readonly number[]): Promise<number | null> {
  const stats = await Promise.all(pids.map(readStat));
  const ticks = sumKnown(stats.map((s) => (s === null ? null : s.cpuTicks)));
  return ticks === null ? null : ticks / USER_HZ;
}

/** Summed resident set size of `pids` in bytes (VmRSS); null when none could be read. */
export function readRssBytesOf(pids: readonly number[]): Promise<number | null> {
  return sumStatusField(pids, 'VmRSS');
}

/** Summed peak resident set size of `pids` over their lifetimes (VmHWM), in bytes; null when unreadable. */
export function readPeakRssBytesOf(pids: readonly number[]): Promise<number | null> {
  return sumStatusField(pids, 'VmHWM');
}

/** The sum of the values that could be read; null when none could. */
function sumKnown(values: readonly (number | null)[]): number | null {
  let sum = 0;
  let seen = 0;
  for (const v of values) {
    if (v === null) continue;
    sum += v;
    seen++;
  }
  return seen === 0 ? null : sum;
}

async function sumStatusField(pids: readonly number[], field: 'VmRSS' | 'VmHWM'): Promise<number | null> {
  const pattern = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm');
  const values = await Promise.all(pids.map(async (pid) => {
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const m = pattern.exec(status);
      return m?.[1] !== undefined ? Number(m[1]) * 1024 : null;
    } catch {
      return null;
    }
  }));
  return sumKnown(values);
}

/**
 * read(2)- and write(2)-family calls made so far by `pids` (syscr + syscw of /proc/<pid>/io, all
 * threads, the libuv pool's file writes included); null when none could be read. Unlike CPU time
 * this count does not move with the machine's load, so it shows batching changes exactly.
 */
export async function readIoSyscalls(pids: readonly number[]): Promise<number | null> {
  const values = await Promise.all(pids.map(async (pid) => {
    try {
      const io = await readFile(`/proc/${pid}/io`, 'utf8');
      const r = /^syscr:\s+(\d+)/m.exec(io);
      const w = /^syscw:\s+(\d+)/m.exec(io);
      return r?.[1] !== undefined && w?.[1] !== undefined ? Number(r[1]) + Number(w[1]) : null;
    } catch {
      return null;
    }
  }));
  return sumKnown(values);
}
