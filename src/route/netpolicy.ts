/**
 * Per-route network policy (PRODUCT §1.6): `denyCidrs` first, then a
 * non-empty `allowCidrs` admits only its members. Both are compiled into
 * net.BlockList at load. A route with neither gets no stage at all.
 */
import type { BlockList } from 'node:net';
import { CONTINUE, type RequestContext, type Respond, type Stage, type Verdict } from '../pipeline/types.js';
import { blockListHas, compileCidrs } from '../server/client-ip.js';

const IP_DENIED: Respond = Object.freeze({ kind: 'respond', status: 403, decision: 'ip_denied', error: 'forbidden' });

export class NetPolicyStage implements Stage {
  readonly name = 'netpolicy';
  readonly #allow: BlockList | null;
  readonly #deny: BlockList | null;

  constructor(allowCidrs: readonly string[], denyCidrs: readonly string[]) {
    this.#allow = allowCidrs.length ? compileCidrs(allowCidrs) : null;
    this.#deny = denyCidrs.length ? compileCidrs(denyCidrs) : null;
  }

  handle(ctx: RequestContext): Verdict {
    if (this.#deny !== null && blockListHas(this.#deny, ctx.clientIp)) return IP_DENIED;
    if (this.#allow !== null && !blockListHas(this.#allow, ctx.clientIp)) return IP_DENIED;
    return CONTINUE;
  }
}

export function compileNetPolicy(allowCidrs: readonly string[], denyCidrs: readonly string[]): Stage | null {
  return allowCidrs.length || denyCidrs.length ? new NetPolicyStage(allowCidrs, denyCidrs) : null;
}
