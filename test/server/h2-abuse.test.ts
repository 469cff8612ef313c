/**
 * HTTP/2 abuse (issue 21): raw-frame attackers against the built gateway running as its own
 * process, with the default server.limits.http2, while a well-behaved HTTP/1.1 client and a
 * well-behaved HTTP/2 client keep asking (test/helpers/h2-probe.ts). For every attack: every
 * probe answers within 1 s during and after it, the gateway's RSS stays ≤ 512 MB, the attacker's
 * connection ends with GOAWAY, and the process survives. Rapid reset also counts, at a real
 * upstream, how many of the reset streams reached it (≤ 1 %).
 *
 * Each attack is bounded in time (ATTACK_MS) and in connections, so the file takes ~30 s.
 */
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { startProcess, type GatewayProcess } from '../helpers/process.js';
import { serverPki } from '../helpers/certs.js';
import { ERROR, FRAME, frame, hpack, pingFrame, RawH2, rstFrame, SETTING, settingsFrame } from '../helpers/h2-frames.js';
import { Probes, type ProbeReport } from '../helpers/h2-probe.js';

const ATTACK_MS = 3_000;
const AFTER_MS = 1_000;
const MAX_PROBE_MS = 1_000;
const MAX_RSS_MB = 512;
/** The attacker reconnects after each GOAWAY, up to this many connections per attack. */
const MAX_CONNECTIONS = 40;

/**
 * The upstream runs in a process of its own, so the work the attack makes it do is not counted
 * against the probes (which run here): it answers 200 and counts requests by path prefix,
 * reported at GET /count.
 */
const UPSTREAM = `
const counts = {};
require('node:http').createServer((req, res) => {
  if (req.url === '/count') return res.end(JSON.stringify(counts));
  const key = req.url.split('/')[1];
  counts[key] = (counts[key] || 0) + 1;
  req.resume();
  req.on('end', () => res.end('ok'));
}).listen(0, '127.0.0.1', function () { console.log(this.address().port); });
`;
const upChild = spawn(process.execPath, ['-e', UPSTREAM], { stdio: ['ignore', 'pipe', 'inherit'] });
const upPort = await new Promise<number>((resolve) => upChild.stdout.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))));
const up = { url: `http://127.0.0.1:${upPort}`, close: async () => { upChild.kill(); } };
async function upstreamCount(prefix: string): Promise<number> {
  const counts = await (await fetch(`${up.url}/count`)).json() as Record<string, number>;
  return counts[prefix] ?? 0;
}
const dir = t.testdir();
const pki = await serverPki(dir);
const file = join(dir, 'gateway.yaml');
writeFileSync(file, `
listeners:
  http: { host: 127.0.0.1, port: 0 }
  https: { host: 127.0.0.1, port: 0, cert: ${pki.server.cert}, key: ${pki.server.key}, http2: true }
  admin: { host: 127.0.0.1, port: 0 }
server:
  # Short, so a session stuck on a zero window is found within the attack's few seconds.
  limits: { keepAliveTimeoutMs: 1000 }
routes:
  - name: all
    match: { path: / }
    auth: none
    upstream: ${up.url}
`);
const gp: GatewayProcess = await startProcess(['serve', '--config', file]);
t.teardown(async () => {
  if (gp.child.exitCode !== null) t.comment(`gateway exited: ${gp.stderr().slice(-2000)}`);
  gp.kill();
  await up.close();
});
// Generous: startup compiles the WAF, and the shared machine can be very busy.
await gp.waitForLog((l) => l['msg'] === 'listening' && l['listener'] === 'admin', 30_000);
const httpsPort = gp.port('https');
const probes = new Probes(`http://127.0.0.1:${gp.port('http')}/probe`, `https://localhost:${httpsPort}/probe`, pki.ca.pem, gp.child.pid!);
t.teardown(() => probes.close());
// Warm-up, not measured: the first requests through the pipeline pay for lazy compilation (JIT,
// first WAF and route use), which is no effect of an attack.
probes.start();
await new Promise((r) => setTimeout(r, 1_500));
await probes.stop();

interface AttackResult {
  readonly connections: number;
  /** Connections the server closed (within 2 s of the attacker's last frame). */
  readonly closed: number;
  /** GOAWAY error codes the attacker read, one per connection (null: none read). */
  readonly codes: readonly (number | null)[];
  /** GOAWAYs the gateway counted (portcullis_http2_goaways_total) during the attack, by reason. */
  readonly counted: Readonly<Record<string, number>>;
  readonly streams: number;
}

const adminUrl = `http://127.0.0.1:${gp.port('admin')}/metrics`;

async function goawaysCounted(): Promise<Record<string, number>> {
  const text = await (await fetch(adminUrl)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^portcullis_http2_goaways_total\{reason="([a-z_]+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/** Runs `attack` on fresh connections for ATTACK_MS (reconnecting when one is closed), with the probes on. */
async function underAttack(attack: (c: RawH2, until: number) => Promise<number>, maxConnections = MAX_CONNECTIONS): Promise<{ result: AttackResult; during: ProbeReport; after: ProbeReport }> {
  const countedBefore = await goawaysCounted();
  probes.start();
  const until = Date.now() + ATTACK_MS;
  const codes: (number | null)[] = [];
  let connections = 0;
  let closed = 0;
  let streams = 0;
  while (Date.now() < until && connections < maxConnections) {
    const c = await RawH2.open(httpsPort, { ca: pki.ca.pem });
    connections++;
    // Each connection is attacked for at least 1 s, so the last one too meets its budget.
    streams += await attack(c, Math.max(until, Date.now() + 1_000));
    // Reading again (some attackers stop), then up to 3 s for the server to hang up.
    c.socket.resume();
    if (await c.waitClosed(3_000)) closed++;
    codes.push(c.goaway);
    c.destroy();
  }
  const during = await probes.stop();
  const countedAfter = await goawaysCounted();
  const counted: Record<string, number> = {};
  for (const [k, v] of Object.entries(countedAfter)) if (v !== (countedBefore[k] ?? 0)) counted[k] = v - (countedBefore[k] ?? 0);
  probes.start();
  await new Promise((r) => setTimeout(r, AFTER_MS));
  const after = await probes.stop();
  return { result: { connections, closed, codes, counted, streams }, during, after };
}

/** The 90th percentile: on the shared 2-core CI machine one probe in ten may wait on someone else's process. */
function p90(ms: readonly number[]): number {
  const sorted = [...ms].sort((a, b) => a - b);
  return sorted.length === 0 ? Infinity : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))]!;
}

/**
 * Probes: none fails (5 s), and 90 % of them answer within MAX_PROBE_MS during and after the
 * attack (the maximum is printed; before issue 21 rapid reset pushed every probe past 5 s).
 */
function checkProbes(t: Test, name: string, during: ProbeReport, after: ProbeReport): void {
  const all = (r: ProbeReport): number[] => [...r.h1, ...r.h2];
  t.same(during.failures, [], `${name}: no probe failed during the attack`);
  t.ok(p90(all(during)) <= MAX_PROBE_MS, `${name}: probes answered within ${MAX_PROBE_MS} ms during the attack (p90 ${p90(all(during))} ms, max ${during.maxMs} ms over ${during.h1.length} h1 + ${during.h2.length} h2)`);
  t.same(after.failures, [], `${name}: no probe failed after the attack`);
  t.ok(p90(all(after)) <= MAX_PROBE_MS, `${name}: probes answered within ${MAX_PROBE_MS} ms after the attack (p90 ${p90(all(after))} ms, max ${after.maxMs} ms)`);
  const rss = Math.max(during.maxRssMb, after.maxRssMb);
  t.ok(rss <= MAX_RSS_MB, `${name}: gateway RSS ≤ ${MAX_RSS_MB} MB (max ${rss.toFixed(0)} MB)`);
  t.equal(gp.child.exitCode, null, `${name}: the gateway process survives`);
}

/**
 * Every attacking connection is closed by the server, after a GOAWAY: `reason` names the budget
 * that must have sent it (counted by the gateway, one per connection: an attacker that does not
 * read may lose the frame itself, as its kernel drops unread bytes when the server's reset
 * arrives), 'node' when Node's own guard answers with a GOAWAY (it must reach some connection),
 * or 'node-abrupt' when Node tears the session down itself (over maxSessionRejectedStreams).
 */
function checkGoaway(t: Test, name: string, r: AttackResult, reason: string): void {
  const seen = r.codes.filter((c) => c !== null);
  t.ok(r.connections > 0 && r.closed === r.connections, `${name}: the server closed every attacking connection (${r.closed}/${r.connections}; GOAWAY codes read ${JSON.stringify(r.codes)}, counted ${JSON.stringify(r.counted)})`);
  if (reason === 'node') t.ok(seen.length > 0, `${name}: with GOAWAY`);
  else if (reason !== 'node-abrupt') {
    t.equal(r.counted[reason], r.connections, `${name}: one GOAWAY (ENHANCE_YOUR_CALM, ${reason}) per connection`);
    t.ok(seen.every((c) => c === ERROR.ENHANCE_YOUR_CALM), `${name}: every GOAWAY read says ENHANCE_YOUR_CALM`);
  }
}

void t.test('rapid reset (HEADERS then RST_STREAM, CVE-2023-44487)', async (t) => {
  const before = await upstreamCount('rr');
  const { result, during, after } = await underAttack(async (c, until) => {
    // The measured attack: ~12.8k streams a second (128 every 10 ms) from one connection.
    // Paced, so this process (which also runs the probes) does not starve its own probes.
    let sent = 0;
    const block = hpack.request('GET', '/rr/x');
    while (Date.now() < until && !c.closed) {
      const batch: Buffer[] = [];
      for (let i = 0; i < 128; i++) {
        const id = c.nextStreamId();
        batch.push(c.headers(id, block), rstFrame(id, ERROR.CANCEL));
      }
      sent += 128;
      if (!c.write(Buffer.concat(batch))) await c.drained();
      await new Promise((r) => setTimeout(r, 10));
    }
    return sent;
  });
  // Requests already on their way when the RST arrives may still land: give them a moment.
  await new Promise((r) => setTimeout(r, 200));
  const reached = (await upstreamCount('rr')) - before;
  const gone = gp.logs.filter((l) => l['msg'] === 'access' && l['status'] === 499).length;
  const warnLines = gp.logs.filter((l) => String(l['msg']).startsWith('HTTP/2 session over its budget')).length;
  t.comment(`rapid reset: ${gone} streams logged as 499, ${warnLines} GOAWAY warning line(s)`);
  t.comment(`rapid reset: ${result.streams} streams over ${result.connections} connections, ${reached} reached the upstream; probes max ${during.maxMs} ms during, ${after.maxMs} ms after; RSS max ${Math.max(during.maxRssMb, after.maxRssMb).toFixed(0)} MB`);
  checkProbes(t, 'rapid reset', during, after);
  checkGoaway(t, 'rapid reset', result, 'reset_rate');
  t.ok(reached <= result.streams * 0.01, `≤ 1 % of the reset streams reached the upstream (${reached} of ${result.streams})`);
});

void t.test('header flood (many streams with 12 KB of headers each, never reading)', async (t) => {
  // One 4 KB field enters the HPACK dynamic table once; each stream then names it three times
  // in three bytes: 12 KB of decoded headers per stream for the attacker's 3 bytes.
  const big = 'x'.repeat(4_000);
  const { result, during, after } = await underAttack(async (c, until) => {
    c.socket.pause();
    let sent = 0;
    const first = c.nextStreamId();
    c.write(c.headers(first, Buffer.concat([hpack.request('GET', '/flood'), hpack.indexed('x-flood', big)]), false));
    sent++;
    const block = Buffer.concat([hpack.request('GET', '/flood'), hpack.ref(62), hpack.ref(62), hpack.ref(62)]);
    while (Date.now() < until && !c.closed && sent < 10_000) {
      const batch: Buffer[] = [];
      for (let i = 0; i < 200; i++) batch.push(c.headers(c.nextStreamId(), block, false));
      sent += 200;
      if (!c.write(Buffer.concat(batch))) await Promise.race([c.drained(), new Promise((r) => setTimeout(r, 200))]);
      await new Promise((r) => setImmediate(r));
    }
    return sent;
  });
  t.comment(`header flood: ${result.streams} streams over ${result.connections} connections; probes max ${during.maxMs} / ${after.maxMs} ms; RSS max ${Math.max(during.maxRssMb, after.maxRssMb).toFixed(0)} MB`);
  checkProbes(t, 'header flood', during, after);
  // Streams past maxConcurrentStreams are refused by nghttp2 before Node emits them; after
  // maxSessionRejectedStreams (100) of those, Node destroys the session itself.
  checkGoaway(t, 'header flood', result, 'node-abrupt');
});

void t.test('CONTINUATION flood (a header block that never ends)', async (t) => {
  const { result, during, after } = await underAttack(async (c, until) => {
    let sent = 0;
    const id = c.nextStreamId();
    c.write(c.headers(id, hpack.request('GET', '/cont'), true, false));
    while (Date.now() < until && !c.closed) {
      const batch: Buffer[] = [];
      for (let i = 0; i < 100; i++) batch.push(frame(FRAME.CONTINUATION, 0, id, hpack.literal(`x-c${sent + i}`, 'v'.repeat(100))));
      sent += 100;
      if (!c.write(Buffer.concat(batch))) await c.drained();
      await new Promise((r) => setImmediate(r));
    }
    return 1;
  });
  checkProbes(t, 'CONTINUATION flood', during, after);
  checkGoaway(t, 'CONTINUATION flood', result, 'node');
});

for (const kind of ['SETTINGS', 'PING'] as const) {
  void t.test(`${kind} flood (frames that each demand an ACK, ACKs never read)`, async (t) => {
    const f = kind === 'SETTINGS' ? settingsFrame({ [SETTING.INITIAL_WINDOW_SIZE]: 65_535 }) : pingFrame(1);
    const { result, during, after } = await underAttack(async (c, until) => {
      c.socket.pause();
      const batch = Buffer.concat(Array.from({ length: 200 }, () => f));
      while (Date.now() < until && !c.closed) {
        if (!c.write(batch)) await Promise.race([c.drained(), new Promise((r) => setTimeout(r, 200))]);
        await new Promise((r) => setImmediate(r));
      }
      return 0;
    });
    checkProbes(t, `${kind} flood`, during, after);
    checkGoaway(t, `${kind} flood`, result, 'control_frames');
  });
}

void t.test('zero-window slow read (streams whose responses can never be sent)', async (t) => {
  const { result, during, after } = await underAttack(async (c, until) => {
    // SETTINGS_INITIAL_WINDOW_SIZE 0 and no WINDOW_UPDATE ever: every response body is stuck.
    c.write(settingsFrame({ [SETTING.INITIAL_WINDOW_SIZE]: 0 }));
    let sent = 0;
    const block = hpack.request('GET', '/slow');
    for (let i = 0; i < 100; i++, sent++) c.write(c.headers(c.nextStreamId(), block));
    await Promise.race([c.closedAt, new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())))]);
    return sent;
  }, 1);
  checkProbes(t, 'zero-window', during, after);
  checkGoaway(t, 'zero-window', result, 'stalled_reader');
});
