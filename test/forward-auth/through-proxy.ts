/**
 * What a client sees through a real forward-auth proxy in front of Portcullis and a recording
 * backend: the cases the NGINX and the HAProxy tests share, since both proxies must give the
 * client and the backend the same answers. Each test file keeps what only its proxy does.
 */
import type { Test } from 'tap';
import type { RecordingUpstream, Received } from '../helpers/upstream.js';
import { token, type Answer, type Doc } from './fixture.js';

export interface ThroughProxy {
  readonly backend: RecordingUpstream;
  /** GET `path` from the proxy. */
  get(path: string, headers?: Record<string, string>): Promise<Answer>;
}

/** A per-user bucket small enough to run out within a test: 2 requests, then one token per 1000 s (overTheRateLimit). */
export function smallUserBucket(doc: Doc): void {
  doc.rateLimits.policies['per-user'] = { key: 'sub', capacity: 2, refillPerSecond: 0.001 };
}

const json = (body: string) => JSON.parse(body) as Record<string, unknown>;

/** A valid token with email and roles claims: the backend answers and sees the identity headers. */
export async function validTokenReachesBackend(t: Test, p: ThroughProxy): Promise<{ res: Answer; seen: Received }> {
  const before = p.backend.received.length;
  const tok = await token('alice', { claims: ['email=alice@example.com', 'realm_access.roles=["dev","ops"]'] });
  const res = await p.get('/api/orders?limit=2', { authorization: `Bearer ${tok}` });
  t.equal(res.status, 200);
  t.equal(p.backend.received.length, before + 1);
  const seen = p.backend.received.at(-1)!;
  t.equal(seen.url, '/api/orders?limit=2');
  t.equal(seen.headers['x-user-id'], 'alice');
  t.equal(seen.headers['x-user-email'], 'alice@example.com');
  t.equal(seen.headers['x-user-roles'], 'dev,ops');
  return { res, seen };
}

/** No token, then a malformed one: 401 with the RFC 6750 challenge, and the backend is not asked. */
export async function noTokenIsChallenged(t: Test, p: ThroughProxy): Promise<void> {
  const before = p.backend.received.length;
  const res = await p.get('/api/orders');
  t.equal(res.status, 401);
  t.equal(res.headers['www-authenticate'], 'Bearer realm="portcullis"', 'exactly one challenge');
  t.equal(res.headers['cache-control'], 'no-store');
  t.same(json(res.body), { error: 'unauthorized', requestId: res.headers['x-request-id'] });
  const bad = await p.get('/api/orders', { authorization: 'Bearer not.a.token' });
  t.equal(bad.status, 401);
  t.equal(bad.headers['www-authenticate'], 'Bearer realm="portcullis", error="invalid_token", error_description="malformed token"');
  t.equal(p.backend.received.length, before);
}

/**
 * A token without the admin scope: 403 with insufficient_scope, and the body's `error` as this
 * proxy passes it on (`deniedError`, `bodyMessage` says why); with the scope: 200.
 */
export async function missingScopeIsForbidden(t: Test, p: ThroughProxy, deniedError: string, bodyMessage: string): Promise<void> {
  const before = p.backend.received.length;
  const res = await p.get('/admin/users', { authorization: `Bearer ${await token('bob')}` });
  t.equal(res.status, 403);
  t.equal(res.headers['www-authenticate'], 'Bearer realm="portcullis", error="insufficient_scope", error_description="required scope missing", scope="admin"');
  t.same(json(res.body), { error: deniedError, requestId: res.headers['x-request-id'] }, bodyMessage);
  t.equal(p.backend.received.length, before);
  const ok = await p.get('/admin/users', { authorization: `Bearer ${await token('bob', { scope: 'admin' })}` });
  t.equal(ok.status, 200);
  t.equal(p.backend.received.at(-1)!.headers['x-user-id'], 'bob');
}

/**
 * The per-user bucket (capacity 2, one token per 1000 s) runs out: the third request gets 429
 * with Retry-After, never the backend; another user's bucket is untouched. Returns the 429.
 */
export async function overTheRateLimit(t: Test, p: ThroughProxy): Promise<Answer> {
  const auth = { authorization: `Bearer ${await token('carol')}` };
  t.equal((await p.get('/api/a', auth)).status, 200);
  t.equal((await p.get('/api/a', auth)).status, 200);
  const before = p.backend.received.length;
  const res = await p.get('/api/a', auth);
  t.equal(res.status, 429);
  t.equal(res.headers['retry-after'], '1000');
  t.equal(res.headers['ratelimit'], '"per-user";r=0;t=1000');
  t.same(json(res.body), { error: 'rate_limited', requestId: res.headers['x-request-id'] });
  t.equal(p.backend.received.length, before);
  t.equal((await p.get('/api/a', { authorization: `Bearer ${await token('dave')}` })).status, 200, 'another user\'s bucket is untouched');
  return res;
}

/** `res` answered erin's token sent with spoofed identity headers on /api/me: the backend saw only hers. Returns what it saw. */
export function spoofedIdentityReplaced(t: Test, p: ThroughProxy, res: { readonly status: number | null }): Received {
  t.equal(res.status, 200);
  const seen = p.backend.received.at(-1)!;
  t.equal(seen.url, '/api/me');
  t.equal(seen.headers['x-user-id'], 'erin', 'replaced, one copy');
  t.equal(seen.headers['x-user-email'], undefined, 'no email claim: removed');
  t.equal(seen.headers['x-user-roles'], undefined, 'no roles claim: removed');
  return seen;
}
