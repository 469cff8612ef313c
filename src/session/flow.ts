/**
 * One sign-in attempt between /sign-in and /callback: `state` (RFC 6749 §10.12, CSRF on the
 * callback), `nonce` (OIDC Core §3.1.2.1, ID token replay) and the PKCE verifier (RFC 7636, S256
 * always). They live in a sealed cookie of their own, named after the state so parallel tabs do
 * not overwrite each other's, that only this browser holds: a callback URL without it — sent to
 * another browser, or forged — is refused. The state is single-use: the callback claims it first
 * (in Redis with the Redis store, else in this process), so a replayed callback fails even with
 * the cookie, before the (itself single-use) code is spent again.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Sealer } from './sealer.js';

/** How long a browser may take at the IdP, in seconds. */
export const FLOW_TTL_SEC = 600;
/** In-process registry of used states: bounded (the oldest forgotten first). */
const MAX_USED = 10_000;
const FLOW_MAX_BYTES = 4096;

export interface FlowState {
  readonly st: string;
  readonly n: string;
  readonly v: string;
  /** Where to go afterwards, already checked by RedirectPolicy. */
  readonly rd: string;
  readonly p: string;
  /** Expiry, seconds. */
  readonly e: number;
}

const random = (): string => randomBytes(32).toString('base64url');

export function newFlow(provider: string, rd: string): FlowState {
  return { st: random(), n: random(), v: random(), rd, p: provider, e: Math.floor(Date.now() / 1000) + FLOW_TTL_SEC };
}

/** RFC 7636 §4.2 S256: BASE64URL(SHA256(ASCII(code_verifier))). */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** The flow cookie of a state: `<session cookie>_f<8 chars of its hash>` (state is 43 base64url chars). */
export function flowCookieName(base: string, state: string): string {
  return `${base}_f${createHash('sha256').update(state).digest('base64url').slice(0, 8)}`;
}

export async function openFlow(sealer: Sealer, sealed: string, state: string): Promise<FlowState | null> {
  const v = await sealer.open('flow', sealed, FLOW_MAX_BYTES);
  if (v === null || typeof v !== 'object') return null;
  const f = v as Record<string, unknown>;
  for (const k of ['st', 'n', 'v', 'rd', 'p']) if (typeof f[k] !== 'string') return null;
  if (typeof f['e'] !== 'number' || f['st'] !== state || f['e'] < Date.now() / 1000) return null;
  return f as unknown as FlowState;
}

export interface UsedStates {
  /** True the first time a state is claimed, false ever after (within its lifetime). */
  claim(state: string): Promise<boolean>;
}

/** Used states of this process: enough with one instance; with several, use the Redis store. */
export class MemoryUsedStates implements UsedStates {
  readonly #used = new Map<string, number>();

  async claim(state: string): Promise<boolean> {
    const now = Date.now();
    if (this.#used.has(state)) return false;
    // Expired entries leave from the front (insertion order is expiry order); the bound caps the rest.
    for (const [k, exp] of this.#used) {
      if (exp > now && this.#used.size < MAX_USED) break;
      this.#used.delete(k);
    }
    this.#used.set(state, now + FLOW_TTL_SEC * 1000);
    return true;
  }
}
