/**
 * `<prefix>/callback?code=…&state=…`: ends the flow (OIDC Core §3.1.2.5–§3.1.3.7). In order:
 * the flow cookie of this state must be in this browser and open under our secret (state bound
 * to the browser); the state is claimed once (a replayed callback is refused before the code is
 * spent); the flow cookie is cleared; the code is exchanged with the PKCE verifier; the ID token
 * is verified (id-token.ts: signature, iss, aud, exp, nonce, at_hash). Then a session with a NEW
 * id replaces whatever session the browser had (no fixation), and the browser goes to `rd`.
 *
 * Failures are logged with a reason code and answered 400/401/502 without details: the body never
 * carries the code, a token or the provider's error text.
 */
import type { Exchange } from '../pipeline/exchange.js';
import { readCookie } from '../auth/token-source.js';
import { deny, redirect, single } from './answer.js';
import { flowCookieName, openFlow } from './flow.js';
import { newSessionId, type SessionData } from './session.js';
import type { SignIn } from './sign-in.js';

const STATE = /^[A-Za-z0-9_-]{43}$/;

export async function finishSignIn(x: Exchange, s: SignIn): Promise<void> {
  const ctx = x.ctx;
  const refuse = (status: number, code: string, reason: string): void => {
    s.logger.info({ requestId: ctx.id, reason }, 'sign-in callback refused');
    deny(x, status, status === 502 ? 'upstream_error' : status === 400 ? 'bad_request' : 'unauthenticated', code);
  };
  if (ctx.method !== 'GET') return deny(x, 405, 'bad_request', 'method_not_allowed');
  const params = new URLSearchParams(ctx.query);
  const state = single(params, 'state');
  const code = single(params, 'code');
  const idpError = single(params, 'error');
  if (typeof state !== 'string' || !STATE.test(state)) return refuse(400, 'invalid_state', 'missing_or_malformed_state');
  const names = s.jar.names(ctx.proto);
  const cookieName = flowCookieName(names.base, state);
  const sealed = ctx.headers.cookie === undefined ? null : readCookie(ctx.headers.cookie, cookieName);
  const flow = typeof sealed === 'string' ? await openFlow(s.sealer, sealed, state) : null;
  if (flow === null) return refuse(400, 'invalid_state', 'no_flow_cookie_for_state');
  (ctx.responseHeaders ??= []).push('set-cookie', s.jar.attributes(cookieName, '', 0, names.secure));
  if (!(await s.used.claim(state))) return refuse(400, 'invalid_state', 'state_reused');
  // The user declined, or the provider refused: RFC 6749 §4.1.2.1. Its text is not echoed.
  if (idpError !== null) return refuse(401, 'sign_in_failed', 'provider_error');
  if (typeof code !== 'string' || code === '' || code.length > 2048) return refuse(400, 'bad_request', 'missing_code');
  const login = s.providers.get(flow.p);
  const endpoints = login?.metadata.endpoints ?? null;
  if (login === undefined || endpoints === null) return refuse(502, 'sign_in_unavailable', 'provider_not_ready');

  const r = await login.tokens.exchangeCode(endpoints, code, flow.v);
  if (!r.ok) return refuse(r.error.startsWith('token_endpoint_') ? 502 : 401, 'sign_in_failed', `token_${r.error}`);
  if (r.tokens.idToken === null) return refuse(502, 'sign_in_failed', 'no_id_token');
  const v = await login.idTokens.verify(r.tokens.idToken, flow.n, r.tokens.accessToken);
  if (!v.ok) return refuse(401, 'sign_in_failed', `id_token_${v.reason}`);

  // Fixation: whatever session this browser had is ended, and the new one gets a new id.
  const old = s.cookieValue(ctx);
  if (old !== null) await s.store.destroy(old).catch(() => undefined);
  const now = Math.floor(Date.now() / 1000);
  const session: SessionData = {
    id: newSessionId(), p: login.name, idt: r.tokens.idToken, rt: r.tokens.refreshToken,
    ate: r.tokens.expiresAtSec, sc: r.tokens.scope, c: now, s: now,
  };
  if (!(await s.begin(ctx, session))) return deny(x, 503, 'upstream_error', 'session_store_unavailable');
  ctx.identity = v.identity; // the access log's `sub`
  s.logger.info({ requestId: ctx.id, provider: login.name, sub: v.identity.sub }, 'signed in');
  redirect(x, flow.rd);
}
