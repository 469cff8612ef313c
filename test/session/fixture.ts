/**
 * The sign-in test bed: a real OP (oidc-provider), a recording upstream and the gateway on real
 * loopback sockets, wired together (the gateway's port is chosen first, since the OP must know
 * the callback URL before it starts).
 */
import { freePort } from '../helpers/ports.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startOp, type OpOptions, type TestOp } from '../helpers/op.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';

export const SECRET_A = 'session-secret-A-0123456789abcdefghijkl';
export const SECRET_B = 'session-secret-B-0123456789abcdefghijkl';

export interface Bed {
  readonly op: TestOp;
  readonly upstream: RecordingUpstream;
  gateway: TestGateway;
  readonly port: number;
  readonly base: string;
  /** The config the gateway runs (for a restart with the same one). */
  readonly doc: Record<string, unknown>;
  restart(doc?: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

export interface BedOptions {
  readonly op?: Partial<OpOptions>;
  /** Replaces keys of the provider's client block. */
  readonly client?: Record<string, unknown>;
  readonly sessions?: Record<string, unknown>;
  readonly route?: Record<string, unknown>;
  readonly extra?: Record<string, unknown>;
  /** The access-token lifetime at the OP. */
  readonly accessTokenTtlSec?: number;
}

export function gatewayDoc(op: TestOp, port: number, upstream: string, o: BedOptions): Record<string, unknown> {
  return {
    listeners: { http: { host: '127.0.0.1', port }, admin: { host: '127.0.0.1', port: 0 } },
    auth: {
      providers: [{
        name: 'op', issuer: op.issuer, discovery: true, algorithms: ['RS256'], rolesClaim: 'roles',
        client: { id: op.clientId, secret: op.clientSecret, redirectUri: `http://127.0.0.1:${port}/.portcullis/callback`, scopes: ['openid', 'email', 'profile', 'roles', 'offline_access'], ...o.client },
      }],
    },
    sessions: { secrets: [SECRET_A], ...o.sessions },
    routes: [
      { name: 'api', match: { path: '/api' }, upstream, auth: {} },
      { name: 'app', match: { path: '/' }, upstream, auth: { login: 'op' }, identityHeaders: { 'X-User-Email': 'email', 'X-User-Id': 'sub' }, ...o.route },
    ],
    ...o.extra,
  };
}

export async function startBed(o: BedOptions = {}): Promise<Bed> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const op = await startOp({ redirectUris: [`${base}/.portcullis/callback`], postLogoutRedirectUris: [`${base}/signed-out`], accessTokenTtlSec: o.accessTokenTtlSec, ...o.op });
  const upstream = await startUpstream();
  const doc = gatewayDoc(op, port, upstream.url, o);
  const bed: Bed = {
    op, upstream, port, base, doc,
    gateway: await startGateway(doc),
    async restart(next = doc) {
      await bed.gateway.close();
      bed.gateway = await startGateway(next);
      await ready(bed.gateway);
    },
    async close() {
      await bed.gateway.close();
      await upstream.close();
      await op.close();
    },
  };
  await ready(bed.gateway);
  return bed;
}

/** /readyz 200: discovery and JWKS loaded (bounded wait). */
export async function ready(g: TestGateway): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${g.adminUrl}/readyz`);
    await res.arrayBuffer();
    if (res.status === 200) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('gateway never became ready');
}
