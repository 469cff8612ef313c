/** The brute-force brake's counting and keys (the 429 through a gateway is in gateway-auth.test.ts). */
import t from 'tap';
import { BruteForceBrake, brakeKey } from '../../src/auth/brake.js';

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

void t.test('more than maxFailures in the window blocks for blockSec', async (t) => {
  const errors: unknown[] = [];
  const brake = new BruteForceBrake({ maxFailures: 3, windowSec: 60, blockSec: 2 }, (e) => errors.push(e));
  const now = Date.now();
  t.equal(brake.blockedMs('10.0.0.1', now), 0);
  for (let i = 0; i < 3; i++) t.equal(await brake.recordFailure('10.0.0.1'), 0, `failure ${i + 1} allowed`);
  const blocked = await brake.recordFailure('10.0.0.1');
  t.ok(blocked > 1_000 && blocked <= 2_000, `the fourth blocks (${blocked} ms)`);
  t.ok(brake.blockedMs('10.0.0.1', Date.now()) > 0);
  t.equal(brake.blockedMs('10.0.0.2', Date.now()), 0, 'another address is not blocked');
  t.equal(brake.blockedMs('10.0.0.1', Date.now() + 2_001), 0, 'the block ends');
  t.same(errors, []);
});
