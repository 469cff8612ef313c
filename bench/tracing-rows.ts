// The tracing rows (issue 19 item 2, docs/tracing.md): the full pipeline (JWT+cache, Redis
// bucket, WAF, access log; pipeline-rows.ts) with tracing off, on with sampleRatio 1, and on with
// sampleRatio 0.01, each exporting OTLP/HTTP JSON to a local receiver started for the row
// (otlp-receiver.ts, its own process, on 127.0.0.1). A request makes three spans: SERVER, the
// Redis bucket call, the upstream call. The off row runs the same config without `tracing`,
// so the three rows differ only in it; select them with BENCH_ROWS='^tracing'.
//
// Under the table each row notes what the receiver got (spans and export requests over the
// row's life, warm-up included, read after the gateway's SIGTERM flush).
import { fileURLToPath } from 'node:url';
import { authFixture } from './auth-fixture.js';
import { fullPipelineConfig } from './pipeline-rows.js';
import { benchRedisUrl } from './redis.js';
import type { BenchEnv, Scenario, Target } from './row.js';
import { startPortcullis, startScript } from './start.js';

const OTLP_RECEIVER_JS = fileURLToPath(new URL('./otlp-receiver.js', import.meta.url));

interface ReceiverStats { posts: number; spans: number; bytes: number }

/** null: tracing off (no `tracing` section at all, the default). */
type SampleRatio = number | null;

function tracingYaml(endpoint: string, ratio: SampleRatio): string {
  return ratio === null ? '' : `tracing: { enabled: true, endpoint: "${endpoint}", sampleRatio: ${ratio} }\n`;
}

async function readStats(receiver: Target): Promise<ReceiverStats | null> {
  try {
    const res = await fetch(`${receiver.url}/stats`, { signal: AbortSignal.timeout(2_000) });
    return (await res.json()) as ReceiverStats;
  } catch {
    return null;
  }
}

async function startTraced(env: BenchEnv, slug: string, ratio: SampleRatio): Promise<Target> {
  await authFixture.prepare(env.workDir);
  const redisUrl = await benchRedisUrl();
  const receiver = await startScript('otlp-receiver', [OTLP_RECEIVER_JS]);
  let gateway: Target;
  try {
    const endpoint = `${receiver.url}/v1/traces`;
    gateway = await startPortcullis(env, slug, (port) => fullPipelineConfig(port, env, redisUrl, {
      tokenCacheEntries: 10_000, bucketKey: 'sub', trustLoopback: false, workers: 1, waf: true,
    }) + tracingYaml(endpoint, ratio));
  } catch (err) {
    await receiver.stop();
    throw err;
  }
  // run.ts keeps this array as the row's notes; stop() adds the receiver's counts to it once
  // the gateway has flushed its spans at SIGTERM.
  const notes: string[] = [];
  return {
    url: gateway.url,
    pid: gateway.pid,
    notes,
    stop: async () => {
      await gateway.stop();
      const s = await readStats(receiver);
      await receiver.stop();
      notes.push(s === null
        ? 'the OTLP receiver did not answer /stats'
        : `OTLP receiver (own process, CPU not counted): ${s.spans} spans in ${s.posts} export requests, ${(s.bytes / 1024 / 1024).toFixed(1)} MiB (warm-up included)`);
    },
  };
}

export function tracingScenarios(): Scenario[] {
  const row = (name: string, slug: string, ratio: SampleRatio): Scenario => ({
    name,
    load: authFixture.load,
    start: (env) => startTraced(env, slug, ratio),
  });
  return [
    row('tracing off (full pipeline)', 'tracing-off', null),
    row('tracing on, sampleRatio 1 (full pipeline)', 'tracing-1', 1),
    row('tracing on, sampleRatio 0.01 (full pipeline)', 'tracing-001', 0.01),
  ];
}
