import { isIPv4, isIPv6 } from 'node:net';

/** A parsed CIDR block, shaped for `net.BlockList.addSubnet(address, prefix, family)`. */
export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/**
 * Parses `10.0.0.0/8`, `2001:db8::/32`, or a bare address (`127.0.0.1` is
 * /32, `::1` is /128). Returns null for anything else, so the validator can
 * name the offending path and the compiler can reuse the same rules.
 *
 * Host bits below the prefix are allowed (`10.1.2.3/8` is 10.0.0.0/8), as
 * BlockList masks them. Zone ids (`fe80::1%eth0`) are rejected: they name an
 * interface, not a network, and BlockList cannot match them.
 */
export function parseCidr(s: string): Cidr | null {
  const slash = s.indexOf('/');
  const address = slash === -1 ? s : s.slice(0, slash);
  const prefixText = slash === -1 ? undefined : s.slice(slash + 1);
  let family: Cidr['family'];
  if (isIPv4(address)) family = 'ipv4';
  else if (isIPv6(address) && !address.includes('%')) family = 'ipv6';
  else return null;
  const max = family === 'ipv4' ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: max, family };
  // Digits only: Number() alone would accept '', ' 8', '0x10' and '1e1'.
  if (!/^[0-9]{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix <= max ? { address, prefix, family } : null;
}
