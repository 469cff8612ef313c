import t from 'tap';
import { DenyCache } from '../../src/ratelimit/deny-cache.js';

void t.test('a denied key waits until its time has passed, then is forgotten', async (t) => {
  const clock = { now: 1000 };
  const cache = new DenyCache(10, () => clock.now);
  t.equal(cache.waitMs('a'), 0);
  cache.deny('a', 1500);
  t.equal(cache.waitMs('a'), 1500);
  clock.now = 2000;
  t.equal(cache.waitMs('a'), 500);
  clock.now = 2500;
  t.equal(cache.waitMs('a'), 0, 'exactly at the deadline: free to ask again');
  t.equal(cache.size, 0, 'the expired entry was removed');
});

void t.test('bounded: the oldest entry goes first', async (t) => {
  const cache = new DenyCache(3, () => 0);
  for (const k of ['a', 'b', 'c', 'd']) cache.deny(k, 1000);
  t.equal(cache.size, 3);
  t.equal(cache.waitMs('a'), 0, 'a was evicted');
  t.equal(cache.waitMs('d'), 1000);
  cache.deny('b', 5000);
  t.equal(cache.size, 3, 'updating a present key evicts nothing');
  t.equal(cache.waitMs('b'), 5000);
  for (let i = 0; i < 100_000; i++) cache.deny(`x${i}`, 1000);
  t.equal(cache.size, 3);
});
