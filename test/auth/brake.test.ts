/** The brute-force brake's counting and keys (through a gateway: test/auth/lifecycle.test.ts, brake-shared.test.ts). */
import t from 'tap';
import { BruteForceBrake, brakeKey, COUNTED } from '../../src/auth/brake.js';

void t.test('IPv4 per address, IPv6 per /64', async (t) => {
  t.equal(brakeKey('192.0.2.7'), '192.0.2.7');
  t.equal(brakeKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  t.equal(brakeKey('2001:db8:1:2::99'), '2001:db8:1:2::/64');
  t.equal(brakeKey('2001:0db8:0001:0002:ffff::1'), '2001:db8:1:2::/64');
  t.equal(brakeKey('2001:db8::1'), '2001:db8:0:0::/64');
  t.equal(brakeKey('2001:db8:1::'), '2001:db8:1:0::/64');
  t.equal(brakeKey('::1'), '0:0:0:0::/64');
  t.equal(brakeKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  t.equal(brakeKey('::ffff:1.2.3.4'), '0:0:0:0::/64');
  t.not(brakeKey('2001:db8:1:2::1'), brakeKey('2001:db8:1:3::1'));
});

void t.test('more than maxFailures in the window blocks for blockSec; the block is reported once', async (t) => {
  const errors: unknown[] = [];
  const brake = new BruteForceBrake({ maxFailures: 3, windowSec: 60, blockSec: 2 }, null, (e) => errors.push(e));
  t.equal(brake.shared, false, 'no Redis: in memory');
  for (let i = 0; i < 3; i++) t.equal((await brake.recordFailure('10.0.0.1')).blockedMs, 0, `failure ${i + 1} allowed`);
  const first = await brake.recordFailure('10.0.0.1');
  t.ok(first.blockedMs > 1_000 && first.blockedMs <= 2_000, `the fourth blocks (${first.blockedMs} ms)`);
  t.equal(first.justBlocked, true);
  const again = await brake.recordFailure('10.0.0.1');
  t.ok(again.blockedMs > 0, 'still blocked');
  t.equal(again.justBlocked, false, 'not a new block');
  t.equal((await brake.recordFailure('10.0.0.2')).blockedMs, 0, 'another address is not blocked');
  t.same(errors, []);
});

void t.test('only forged-looking failures count: never expiry, audience or issuer mistakes', async (t) => {
  const brake = new BruteForceBrake({ maxFailures: 1, windowSec: 60, blockSec: 60 }, null, () => undefined);
  for (const reason of ['bad_signature', 'malformed', 'unknown_kid', 'inactive'] as const) t.ok(brake.counts(reason), reason);
  for (const reason of ['expired', 'not_yet_valid', 'missing_exp', 'wrong_audience', 'wrong_issuer', 'wrong_typ', 'multiple_tokens'] as const) {
    t.notOk(brake.counts(reason), reason);
  }
  t.equal(COUNTED.size, 6);
});
