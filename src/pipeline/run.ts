/**
 * The stage runner (STYLE §2): call `handle`, await only when a Promise came
 * back (as fastify's hook runner does), stop at the first Respond.
 */
import type { RequestContext, Respond, Stage, Verdict } from '../contract/types.js';

/** Runs `stages` from index `from`; resolves null when every stage continued. */
export function runStages(stages: readonly Stage[], ctx: RequestContext, from = 0): Respond | null | Promise<Respond | null> {
  for (let i = from; i < stages.length; i++) {
    const verdict = stages[i]!.handle(ctx);
    if (verdict instanceof Promise) return finishAsync(stages, ctx, verdict, i);
    if (verdict.kind === 'respond') return verdict;
  }
  return null;
}

async function finishAsync(stages: readonly Stage[], ctx: RequestContext, pending: Promise<Verdict>, index: number): Promise<Respond | null> {
  const verdict = await pending;
  if (verdict.kind === 'respond') return verdict;
  // The client left while this stage waited: no further stage (Redis, WAF…) works for nobody.
  // null hands it to the shape's settle, which forwards or answers nothing to a gone client.
  if (ctx.clientGone === true) return null;
  return runStages(stages, ctx, index + 1);
}
