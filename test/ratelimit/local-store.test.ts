import t from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { bucketSpec } from '../../src/ratelimit/bucket.js';
import { LocalStore } from '../../src/ratelimit/local-store.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function fakeClock(start = 0) {
  const clock = { now: start, fn: () => clock.now };
  return clock;
}

void t.test('buckets are per key', async (t) => {
  const clock = fakeClock();
  const store = new LocalStore(100, clock.fn);
  const spec = bucketSpec(2, 1);
  t.same([1, 2, 3].map(() => store.take('a', spec).allowed), [true, true, false]);
  t.equal(store.take('b', spec).allowed, true, 'another key has its own bucket');
  clock.now = 1000;
  t.equal(store.take('a', spec).allowed, true, 'refilled after 1 s');
});

void t.test('the cap evicts the least recently used bucket', async (t) => {
  const clock = fakeClock();
  const store = new LocalStore(100, clock.fn);
  const spec = bucketSpec(1, 0.001); // empties at once, refills in 1000 s: nothing expires here
  for (let i = 0; i < 100; i++) store.take(`k${i}`, spec);
  t.equal(store.size, 100);
  t.equal(store.take('k0', spec).allowed, false, 'k0 is empty (and now the most recently used)');
  store.take('new', spec);
  t.equal(store.size, 100, 'still at the cap');
  t.equal(store.take('k0', spec).allowed, false, 'k0 survived: it was used recently');
  t.equal(store.take('k1', spec).allowed, true, 'k1 was the least recently used: evicted, so it starts full again');
});

void t.test('buckets that have refilled to full are dropped as new keys arrive', async (t) => {
  const clock = fakeClock();
  const store = new LocalStore(1000, clock.fn);
  const spec = bucketSpec(10, 100); // full again 100 ms after one take
  for (let i = 0; i < 500; i++) store.take(`burst${i}`, spec);
  t.equal(store.size, 500);
  clock.now = 1000;
  for (let i = 0; i < 200; i++) store.take(`later${i}`, spec);
  t.equal(store.size, 300, 'each new key dropped two expired ones: 500 + 200 - 400');
});

void t.test('a million distinct keys keep memory bounded by the cap', async (t) => {
  const cap = 100_000;
  // A frozen clock: no bucket refills, so nothing can leave by expiry and only the cap bounds the map.
  const store = new LocalStore(cap, () => 0);
  const spec = bucketSpec(20, 10);
  const prefix = 'portcullis:rl:{per-client:v:';
  gc();
  const before = process.memoryUsage().heapUsed;
  let peak = 0;
  for (let i = 0; i < 1_000_000; i++) {
    store.take(prefix + 'client-' + i + '}', spec);
    if (i % 100_000 === 99_999) peak = Math.max(peak, store.size);
  }
  gc();
  const grownMb = (process.memoryUsage().heapUsed - before) / 1048576;
  t.equal(peak, cap, 'never more than the cap');
  t.equal(store.size, cap);
  t.ok(grownMb < 60, `heap grew ${grownMb.toFixed(1)} MB for ${cap} buckets (< 60 MB)`);
  store.clear();
  gc();
  const afterClear = (process.memoryUsage().heapUsed - before) / 1048576;
  t.ok(afterClear < 10, `heap back to +${afterClear.toFixed(1)} MB once cleared`);
});
