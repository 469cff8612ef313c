// Fixed and per-entry memory (issue 17 item 4), in V8 heap bytes after a full GC — steadier than
// RSS, which moves with the young generation and the allocator:
//   - per verified-token cache entry: 10,000 identities of bench-like tokens (distinct `sub`, one
//     scope string) through Provider.identityFrom into a TokenCache, the 44-character key excluded;
//   - per module: each of the given modules imported in a fresh process, RSS and heap after GC
//     against a process that imports nothing.
//
//   npm run build && node --expose-gc dist/bench/memory-micro.js [module …]
//   e.g. node --expose-gc dist/bench/memory-micro.js @grpc/grpc-js ./dist/src/compile/gateway.js
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { Provider } from '../src/auth/provider.js';
import type { KeySet } from '../src/auth/key-set.js';
import type { ProviderConfig } from '../src/config/types.js';
import { TokenCache, tokenKey } from '../src/auth/token-cache.js';

const ENTRIES = 10_000;
const MB = 1024 * 1024;

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run with node --expose-gc');
  collect();
  collect();
}

function bytesPerCacheEntry(): number {
  const keySet = {} as KeySet;
  const cfg = { name: 'bench', issuer: 'https://bench.portcullis.invalid', algorithms: ['RS256'], audiences: ['bench'], clockToleranceSec: 30, rolesClaim: 'realm_access.roles', scopesClaim: 'scope' };
  const provider = new Provider(cfg as unknown as ProviderConfig, { current: () => keySet } as never);
  const now = Math.floor(Date.now() / 1000);
  const payloads = Array.from({ length: ENTRIES }, (_, i) => JSON.stringify({ iss: cfg.issuer, sub: `bench-user-${i}`, aud: 'bench', scope: 'bench:read', iat: now, exp: now + 86_400 }));
  const keys = payloads.map((p, i) => tokenKey(`token-${i}.${p}`));
  const cache = new TokenCache(ENTRIES, 300);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < ENTRIES; i++) cache.set(keys[i]!, provider, provider.identityFrom(JSON.parse(payloads[i]!) as Record<string, unknown>), keySet, Date.now());
  gc();
  if (cache.size !== ENTRIES) throw new Error(`cache holds ${cache.size} entries`);
  return (process.memoryUsage().heapUsed - before) / ENTRIES;
}

/** RSS and heap (MB) of a fresh node that imported `spec` (or nothing), after GC. */
function importCost(spec: string | null): { rss: number; heap: number } {
  const url = spec === null ? null : spec.startsWith('.') || spec.startsWith('/') ? pathToFileURL(resolve(spec)).href : spec;
  const script = `${url === null ? '' : `await import(${JSON.stringify(url)});`} gc(); gc(); const m = process.memoryUsage(); console.log(JSON.stringify({ rss: m.rss, heap: m.heapUsed }));`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
  const m = JSON.parse(out.trim().split('\n').pop()!) as { rss: number; heap: number };
  return { rss: m.rss / MB, heap: m.heap / MB };
}

console.log(`verified-token cache: ${bytesPerCacheEntry().toFixed(0)} B of V8 heap per entry (${ENTRIES} entries, key excluded)`);
const modules = process.argv.slice(2);
if (modules.length > 0) {
  const none = importCost(null);
  console.log(`${'module'.padEnd(48)} | RSS MB | +RSS | heap MB | +heap`);
  console.log(`${'(nothing)'.padEnd(48)} | ${none.rss.toFixed(1).padStart(6)} |      | ${none.heap.toFixed(1).padStart(7)} |`);
  for (const m of modules) {
    const c = importCost(m);
    console.log(`${m.padEnd(48)} | ${c.rss.toFixed(1).padStart(6)} | ${(c.rss - none.rss).toFixed(1).padStart(4)} | ${c.heap.toFixed(1).padStart(7)} | ${(c.heap - none.heap).toFixed(1).padStart(5)}`);
  }
}
