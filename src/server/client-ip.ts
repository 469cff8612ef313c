/**
 * Client address and trust decisions (PRODUCT §1.2–1.3).
 *
 * The socket peer is the client unless the peer is a trusted proxy; then
 * X-Forwarded-For is walked from the right, hop by hop, skipping addresses
 * that are themselves trusted, and the first untrusted one is the client.
 * Nothing is trusted by default (`server.trustedProxies: []`).
 */
import { BlockList, isIP } from 'node:net';
import { parseCidr } from '../config/cidr.js';

/** `::ffff:10.0.0.1` → `10.0.0.1`, so IPv4 CIDRs match dual-stack sockets. */
export function canonicalIp(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Compile a CIDR list once into a net.BlockList (validated by config already). */
export function compileCidrs(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const parsed = parseCidr(cidr);
    if (!parsed) throw new Error(`invalid CIDR reached the compiler: ${cidr}`);
    list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return list;
}

export function blockListHas(list: BlockList, address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class TrustedProxies {
  readonly #list: BlockList;
  readonly #empty: boolean;

  constructor(cidrs: readonly string[]) {
    this.#list = compileCidrs(cidrs);
    this.#empty = cidrs.length === 0;
  }

  isTrusted(address: string): boolean {
    return !this.#empty && blockListHas(this.#list, address);
  }

  /** The client address for a request from `peer` carrying `xff` (may be undefined). */
  clientAddress(peer: string, xff: string | undefined): string {
    if (xff === undefined || !this.isTrusted(peer)) return peer;
    let end = xff.length;
    // Walk right to left without allocating an array of all hops.
    while (end > 0) {
      const comma = xff.lastIndexOf(',', end - 1);
      const hop = canonicalIp(xff.slice(comma + 1, end).trim());
      if (isIP(hop) === 0) return peer; // garbage in the chain: believe only what we saw
      if (!this.isTrusted(hop)) return hop;
      end = comma < 0 ? 0 : comma;
    }
    return peer;
  }
}
