/**
 * Per-route network policy (PRODUCT §1.6): `denyCidrs` first, then a
 * non-empty `allowCidrs` admits only its members. Both are compiled at load
 * (route/client-ip.ts CidrList: integer matching for IPv4, net.BlockList
 * otherwise). A route with neither gets no stage at all.
 */
import { CONTINUE, type RequestContext, type Respond, type Stage, type Verdict } from '../contract/types.js';
import { CidrList } from './client-ip.js';

const IP_DENIED: Respond = Object.freeze({ kind: 'respond', status: 403, decision: 'ip_denied', error: 'forbidden' });

export class NetPolicyStage implements Stage {
  readonly name = 'netpolicy';
  readonly #allow: CidrList | null;
  readonly #deny: CidrList | null;

  constructor(allowCidrs: readonly string[], denyCidrs: readonly string[]) {
    this.#allow = allowCidrs.length ? new CidrList(allowCidrs) : null;
    this.#deny = denyCidrs.length ? new CidrList(denyCidrs) : null;
  }

  handle(ctx: RequestContext): Verdict {
    if (this.#deny !== null && this.#deny.has(ctx.clientIp)) return IP_DENIED;
    if (this.#allow !== null && !this.#allow.has(ctx.clientIp)) return IP_DENIED;
    return CONTINUE;
  }
}

export function compileNetPolicy(allowCidrs: readonly string[], denyCidrs: readonly string[]): Stage | null {
  return allowCidrs.length || denyCidrs.length ? new NetPolicyStage(allowCidrs, denyCidrs) : null;
}
