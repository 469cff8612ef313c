/**
 * `auth.dpop` and the `dpop` modes of providers and routes → the per-route DPoP checks
 * (check.ts). Compiled once per config; a route none of whose providers can use DPoP gets no
 * check at all, so the auth stage of such a route does exactly what it did before DPoP.
 */
import type { Logger } from 'pino';
import type { ProviderConfig } from '../../config/types.js';
import { DpopCheck, type DpopShared } from './check.js';
import { NonceIssuer } from './nonce.js';
import { accessTokenHash } from './proof.js';
import { LastTokenMemo } from '../last-token.js';
import type { DpopFailureReason } from './reasons.js';
import { LocalReplaySet, ReplayStore } from './replay.js';
import { DpopResponses } from './responses.js';
import { DPOP_DEFAULTS, type DpopConfig, type DpopMode } from './schema.js';
import { ProofHeaders } from './signature.js';

export interface DpopDeps {
  readonly realm: string;
  /** The gateway's Redis connection, when `redis` is configured. */
  readonly redis: { readonly client: object; readonly keyPrefix: string } | null;
  /** rateLimits.failMode is open (the default): Redis down → the local replay set. */
  readonly failOpen: boolean;
  readonly logger: Logger;
  readonly count: (provider: string, reason: DpopFailureReason) => void;
}

export class CompiledDpop {
  readonly #shared: DpopShared;
  readonly #providerModes: ReadonlyMap<string, DpopMode>;

  constructor(cfg: DpopConfig | undefined, providers: readonly ProviderConfig[], deps: DpopDeps) {
    const c = cfg ?? { ...DPOP_DEFAULTS, algorithms: [...DPOP_DEFAULTS.algorithms] };
    const nonce = c.nonce ?? DPOP_DEFAULTS.nonce;
    const local = new LocalReplaySet(c.replayMaxEntries);
    const redis = c.replayStore === 'local' ? null : deps.redis;
    this.#shared = {
      rules: { algorithms: new Set(c.algorithms), maxAgeSec: c.proofMaxAgeSec, toleranceSec: c.clockToleranceSec },
      headers: new ProofHeaders(c.keyCacheEntries),
      athOf: new LastTokenMemo(accessTokenHash),
      replay: new ReplayStore(local, redis, deps.failOpen, deps.logger),
      // iat may lie maxAge + tolerance in the past and tolerance in the future: all of it is remembered.
      windowMs: (c.proofMaxAgeSec + 2 * c.clockToleranceSec) * 1000,
      nonce: nonce.enabled ? new NonceIssuer(nonce.secret, nonce.ttlSec) : null,
      responses: new DpopResponses(deps.realm, c.algorithms),
      count: deps.count,
    };
    this.#providerModes = new Map(providers.map((p) => [p.name, p.dpop ?? 'off']));
  }

  /**
   * The check of a route: `routeMode` its auth.dpop, `accepted` its auth.providers (null: all).
   * null when every provider the route accepts ends up `off`.
   */
  forRoute(routeMode: DpopMode | undefined, accepted: readonly string[] | null): DpopCheck | null {
    const modes = new Map<string, DpopMode>();
    let dpop = false;
    let bearer = false;
    for (const [name, providerMode] of this.#providerModes) {
      if (accepted !== null && !accepted.includes(name)) continue;
      const mode = routeMode ?? providerMode;
      modes.set(name, mode);
      if (mode !== 'off') dpop = true;
      if (mode !== 'required') bearer = true;
    }
    return dpop ? new DpopCheck(this.#shared, modes, bearer ? 'both' : 'dpop') : null;
  }
}
