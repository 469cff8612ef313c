import t from 'tap';
import { parseCidr } from '../../src/config/cidr.js';

void t.test('valid blocks and bare addresses', async (t) => {
  t.same(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
  t.same(parseCidr('127.0.0.1'), { address: '127.0.0.1', prefix: 32, family: 'ipv4' });
  t.same(parseCidr('0.0.0.0/0'), { address: '0.0.0.0', prefix: 0, family: 'ipv4' });
  t.same(parseCidr('10.1.2.3/8'), { address: '10.1.2.3', prefix: 8, family: 'ipv4' }, 'host bits are allowed (BlockList masks them)');
  t.same(parseCidr('::1'), { address: '::1', prefix: 128, family: 'ipv6' });
  t.same(parseCidr('fd00::/8'), { address: 'fd00::', prefix: 8, family: 'ipv6' });
  t.same(parseCidr('::ffff:10.0.0.0/104'), { address: '::ffff:10.0.0.0', prefix: 104, family: 'ipv6' });
});

void t.test('anything else is null', async (t) => {
  for (const bad of ['', '/8', '10.0.0.0/', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/08x', '10.0.0.0/ 8', '10.0.0.0/0x8',
    '10.0.0.0/8/8', '010.0.0.1', '10.0.0', '256.0.0.0', '::/129', 'fe80::1%eth0', 'localhost', ' 10.0.0.1', '[::1]']) {
    t.equal(parseCidr(bad), null, JSON.stringify(bad));
  }
});
