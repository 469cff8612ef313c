/**
 * `<prefix>/sign-out`: GET shows a confirmation page whose form POSTs back with a CSRF token; the
 * POST ends the session. Signing out changes state, so a cross-site link or image must not do it
 * (logout CSRF): the POST needs the token (an HMAC of the session id, form field `csrf` or header
 * `X-Portcullis-Csrf`) or an `Origin` naming this very origin (a form of the application's own).
 *
 * Ending: the session is deleted (Redis) and its cookies cleared; with an end_session_endpoint
 * (OIDC RP-Initiated Logout 1.0 §2) the browser goes there with id_token_hint, client_id and the
 * configured post_logout_redirect_uri, so the provider's session ends too; else to `rd` or `/`.
 */
import type { Exchange } from '../pipeline/exchange.js';
import { deny, escapeHtml, page, redirect, single } from './answer.js';
import type { SignIn } from './sign-in.js';

const MAX_FORM_BYTES = 4096;

export async function signOut(x: Exchange, s: SignIn): Promise<void> {
  const ctx = x.ctx;
  const params = new URLSearchParams(ctx.query);
  const rdParam = single(params, 'rd');
  if (rdParam === undefined) return deny(x, 400, 'bad_request', 'bad_request');
  const rd = s.redirects.check(rdParam ?? '/', ctx.host);
  if (rd === null) return deny(x, 400, 'bad_request', 'invalid_redirect');
  const value = s.cookieValue(ctx);
  const session = value === null ? null : await s.store.load(value);

  if (ctx.method === 'GET' || ctx.method === 'HEAD') {
    if (session === null) return redirect(x, rd);
    const action = `${s.prefix}/sign-out?rd=${encodeURIComponent(rd)}`;
    return page(x, confirmation(escapeHtml(action), s.sealer.csrfToken(session.id)));
  }
  if (ctx.method !== 'POST') return deny(x, 405, 'bad_request', 'method_not_allowed');
  const form = await readForm(x);
  if (form === null) return deny(x, 400, 'bad_request', 'bad_request');
  const token = single(form, 'csrf') ?? headerValue(x, 'x-portcullis-csrf');
  const tokenOk = typeof token === 'string' && session !== null && s.sealer.csrfTokenValid(session.id, token);
  if (!tokenOk && !sameOrigin(x)) return deny(x, 403, 'forbidden', 'csrf_failed');

  s.clearCookies(ctx);
  if (value !== null) {
    try {
      await s.store.destroy(value);
    } catch {
      return deny(x, 503, 'upstream_error', 'session_store_unavailable');
    }
  }
  const login = session === null ? undefined : s.providers.get(session.p);
  const endSession = login?.metadata.endpoints?.endSession ?? null;
  if (login === undefined || endSession === null) return redirect(x, rd);
  const q = new URLSearchParams({ id_token_hint: session!.idt, client_id: login.client.id });
  if (login.client.postLogoutRedirectUri !== undefined) q.set('post_logout_redirect_uri', login.client.postLogoutRedirectUri);
  redirect(x, endSession + (endSession.includes('?') ? '&' : '?') + q.toString());
}

function confirmation(action: string, csrf: string): string {
  return '<!doctype html><html><head><meta charset="utf-8"><title>Sign out</title></head><body>'
    + `<form method="post" action="${action}"><input type="hidden" name="csrf" value="${csrf}">`
    + '<p>Sign out of this site?</p><button type="submit" id="sign-out">Sign out</button></form></body></html>';
}

function headerValue(x: Exchange, name: string): string | null {
  const v = x.req.headers[name];
  return typeof v === 'string' ? v : null;
}

/** Origin equal to the origin this request addressed (RFC 6454 serialisation). */
function sameOrigin(x: Exchange): boolean {
  const origin = headerValue(x, 'origin');
  const host = x.req.headers.host ?? (x.req.headers[':authority'] as string | undefined);
  return origin !== null && host !== undefined && origin === `${x.ctx.proto}://${host}`;
}

/** An urlencoded body of at most MAX_FORM_BYTES (or none); null when larger or of another type. */
async function readForm(x: Exchange): Promise<URLSearchParams | null> {
  const type = x.req.headers['content-type'];
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of x.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) return null;
    chunks.push(chunk);
  }
  x.bytesIn = size;
  if (size === 0) return new URLSearchParams();
  if (type === undefined || !type.toLowerCase().startsWith('application/x-www-form-urlencoded')) return null;
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
