import t from 'tap';
import { PolicyFields, retryAfterSec } from '../../src/ratelimit/fields.js';

void t.test('RateLimit-Policy: quota = capacity, window = time to fill an empty bucket (draft-11 §3)', async (t) => {
  t.equal(new PolicyFields('per-user', 20, 10).policy, '"per-user";q=20;w=2');
  t.equal(new PolicyFields('per-ip', 100, 50).policy, '"per-ip";q=100;w=2');
  t.equal(new PolicyFields('slow', 5, 0.5).policy, '"slow";q=5;w=10');
  t.equal(new PolicyFields('odd', 100, 3).policy, '"odd";q=100;w=34', 'rounded up: never advertises more than the refill');
  t.equal(new PolicyFields('fast', 10, 1000).policy, '"fast";q=10;w=1', 'at least 1 s (draft: w is a non-zero integer)');
});

void t.test('RateLimit: remaining and seconds to full when allowed; 0 and Retry-After when denied (draft-11 §4, §6)', async (t) => {
  const f = new PolicyFields('p', 20, 10);
  t.equal(f.limit({ allowed: true, remaining: 19, nextMs: 0, fullMs: 100 }), '"p";r=19;t=1');
  t.equal(f.limit({ allowed: true, remaining: 0, nextMs: 100, fullMs: 2000 }), '"p";r=0;t=2');
  t.equal(f.limit({ allowed: true, remaining: 5, nextMs: 0, fullMs: 0 }), '"p";r=5;t=0');
  t.equal(f.limit({ allowed: false, remaining: 0, nextMs: 40, fullMs: 2000 }), '"p";r=0;t=1', 'denied: t is Retry-After, not time to full');
  t.equal(f.limit({ allowed: false, remaining: 0, nextMs: 2001, fullMs: 9000 }), '"p";r=0;t=3');
});

void t.test('Retry-After is whole seconds, rounded up, at least 1 (RFC 9110 §10.2.3)', async (t) => {
  t.equal(retryAfterSec(0), 1);
  t.equal(retryAfterSec(1), 1);
  t.equal(retryAfterSec(1000), 1);
  t.equal(retryAfterSec(1001), 2);
  t.equal(retryAfterSec(59_999), 60);
});
