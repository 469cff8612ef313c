import t from 'tap';
import { BucketState, bucketSpec, take } from '../../src/ratelimit/bucket.js';

void t.test('a new bucket allows exactly `capacity` at once, then refills continuously', async (t) => {
  const spec = bucketSpec(5, 10); // one token per 100 ms
  const state = new BucketState(5, 0);
  const burst = Array.from({ length: 7 }, () => take(state, spec, 0));
  t.same(burst.map((d) => d.allowed), [true, true, true, true, true, false, false]);
  t.same(burst.map((d) => d.remaining), [4, 3, 2, 1, 0, 0, 0]);
  t.same(burst[4], { allowed: true, remaining: 0, nextMs: 100, fullMs: 500 });
  t.same(burst[5], { allowed: false, remaining: 0, nextMs: 100, fullMs: 500 }, 'a denial consumes nothing');
  t.equal(take(state, spec, 99).allowed, false, '99 ms: not yet one token');
  t.same(take(state, spec, 100), { allowed: true, remaining: 0, nextMs: 100, fullMs: 500 });
  const later = take(state, spec, 350); // 2.5 tokens accrued since 100 ms
  t.same(later, { allowed: true, remaining: 1, nextMs: 0, fullMs: 350 });
  t.equal(take(state, spec, 10_000).remaining, 4, 'never more than capacity');
});

void t.test('fractional rates: 0.5/s is one token every 2 s', async (t) => {
  const spec = bucketSpec(1, 0.5);
  const state = new BucketState(1, 0);
  t.equal(take(state, spec, 0).allowed, true);
  const denied = take(state, spec, 500);
  t.same(denied, { allowed: false, remaining: 0, nextMs: 1500, fullMs: 1500 });
  t.equal(take(state, spec, 1999).allowed, false);
  t.equal(take(state, spec, 2000).allowed, true);
});

void t.test('a clock that goes backwards refills nothing and breaks nothing', async (t) => {
  const spec = bucketSpec(2, 1);
  const state = new BucketState(2, 1000);
  t.equal(take(state, spec, 1000).allowed, true);
  t.equal(take(state, spec, 1000).allowed, true);
  t.equal(take(state, spec, 0).allowed, false, 'time went back: still empty');
  t.equal(take(state, spec, 2000).allowed, true, 'one second after the last take: one token');
});
