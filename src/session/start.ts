/**
 * `<prefix>/sign-in?rd=…[&provider=…]`: begins the authorization code flow (OIDC Core §3.1.2.1)
 * — checks `rd`, seals a new flow (flow.ts) into this browser's cookie, and sends the browser to
 * the provider's authorization_endpoint with response_type=code, state, nonce and the PKCE S256
 * challenge. Requested on a host other than the redirectUri's, it first moves there (the flow
 * cookie is host-only, and the callback arrives on the redirectUri's host).
 */
import type { Exchange } from '../pipeline/exchange.js';
import { deny, redirect, single } from './answer.js';
import { flowCookieName, FLOW_TTL_SEC, newFlow, pkceChallenge } from './flow.js';
import type { SignIn } from './sign-in.js';

export async function startSignIn(x: Exchange, s: SignIn): Promise<void> {
  const ctx = x.ctx;
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return deny(x, 405, 'bad_request', 'method_not_allowed');
  const params = new URLSearchParams(ctx.query);
  const rdParam = single(params, 'rd');
  const providerParam = single(params, 'provider');
  if (rdParam === undefined || providerParam === undefined) return deny(x, 400, 'bad_request', 'bad_request');
  const login = providerParam === null ? s.soleProvider : s.providers.get(providerParam) ?? null;
  if (login === null) return deny(x, 400, 'bad_request', 'unknown_provider');
  const rd = s.redirects.check(rdParam ?? '/', ctx.host);
  if (rd === null) return deny(x, 400, 'bad_request', 'invalid_redirect');

  const callback = new URL(login.client.redirectUri);
  if (callback.hostname !== ctx.host) {
    // rd stays valid on the other host only as an absolute URL back to this one.
    const back = rd.startsWith('/') ? `${ctx.proto}://${hostHeader(x)}${rd}` : rd;
    const query = `rd=${encodeURIComponent(back)}${providerParam === null ? '' : `&provider=${encodeURIComponent(login.name)}`}`;
    return redirect(x, `${callback.origin}${s.prefix}/sign-in?${query}`);
  }
  const endpoints = login.metadata.endpoints;
  if (endpoints === null) return deny(x, 503, 'upstream_error', 'sign_in_unavailable');

  const flow = newFlow(login.name, rd);
  const names = s.jar.names(ctx.proto);
  const sealed = await s.sealer.seal('flow', flow);
  const cookie = s.jar.attributes(flowCookieName(names.base, flow.st), sealed, FLOW_TTL_SEC, names.secure);
  (ctx.responseHeaders ??= []).push('set-cookie', cookie);
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: login.client.id,
    redirect_uri: login.client.redirectUri,
    scope: login.scope,
    state: flow.st,
    nonce: flow.n,
    code_challenge: pkceChallenge(flow.v),
    code_challenge_method: 'S256',
  });
  const sep = endpoints.authorization.includes('?') ? '&' : '?';
  redirect(x, endpoints.authorization + sep + q.toString());
}

/** The Host the client sent (with its port), which the edge has validated. */
function hostHeader(x: Exchange): string {
  const h = x.req.headers.host ?? (x.req.headers[':authority'] as string | undefined);
  return h ?? x.ctx.host;
}
