/**
 * CidrList (route/client-ip.ts) answers exactly as net.BlockList does — it only skips
 * BlockList's per-call SocketAddress for IPv4 addresses against IPv4-only lists.
 */
import t from 'tap';
import { isIPv4 } from 'node:net';
import { CidrList, blockListHas, compileCidrs, parseIpv4 } from '../../src/route/client-ip.js';

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

void t.test('parseIpv4 accepts exactly what net.isIPv4 accepts', async (t) => {
  const cases = ['0.0.0.0', '255.255.255.255', '10.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '256.1.1.1',
    '1.2.3.-1', ' 1.2.3.4', '1.2.3.4 ', '1..2.3', '::1', '::ffff:1.2.3.4', '', '.1.2.3', '1.2.3.', 'a.b.c.d', '1.2.3.4/8', '00.0.0.0', '0.0.0.00'];
  for (const c of cases) t.equal(parseIpv4(c) >= 0, isIPv4(c), JSON.stringify(c));
  t.equal(parseIpv4('10.1.2.3'), ((10 << 24) | (1 << 16) | (2 << 8) | 3) >>> 0);
  t.equal(parseIpv4('255.255.255.255'), 4294967295);
});

void t.test('same answer as BlockList for random IPv4 lists and addresses, and for mixed lists', async (t) => {
  const next = rng(8);
  const octet = (): number => Math.floor(next() * 256);
  const ip = (): string => `${octet()}.${octet()}.${octet()}.${octet()}`;
  let disagreements = 0;
  let matches = 0;
  for (let list = 0; list < 200; list++) {
    const cidrs = Array.from({ length: 1 + Math.floor(next() * 5) }, () => `${ip()}/${Math.floor(next() * 33)}`);
    if (list % 5 === 0) cidrs.push('2001:db8::/32'); // a mixed list: BlockList decides everything
    if (list % 7 === 0) cidrs.push(ip()); // a bare address is a /32
    const fast = new CidrList(cidrs);
    const reference = compileCidrs(cidrs);
    // addresses near the rules' networks, so that both answers occur
    const probes = [...cidrs.map((c) => c.split('/')[0]!), ...Array.from({ length: 50 }, ip), '::1', '2001:db8::5', '::ffff:10.0.0.1', 'garbage', ''];
    for (const p of probes) {
      const a = fast.has(p);
      if (a !== blockListHas(reference, p)) disagreements++;
      if (a) matches++;
    }
  }
  t.equal(disagreements, 0, 'no disagreement');
  t.ok(matches > 100, `both outcomes exercised (${matches} matches)`);
});

void t.test('edges: /0, /32, and addresses just outside a block', async (t) => {
  const all = new CidrList(['0.0.0.0/0']);
  t.ok(all.has('255.255.255.255') && all.has('0.0.0.0'));
  t.notOk(all.has('::1'), 'an IPv6 address is not in an IPv4 /0');
  const one = new CidrList(['10.0.0.1/32']);
  t.ok(one.has('10.0.0.1'));
  t.notOk(one.has('10.0.0.2'));
  const block = new CidrList(['192.168.4.0/22']);
  t.ok(block.has('192.168.4.0') && block.has('192.168.7.255'));
  t.notOk(block.has('192.168.3.255') || block.has('192.168.8.0'));
  t.notOk(block.has('192.168.004.1'), 'leading zeros are not an address (as for BlockList)');
});
