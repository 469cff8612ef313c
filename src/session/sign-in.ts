/**
 * What every sign-in route and endpoint of one config shares, compiled once (compile.ts): the
 * sealer, cookie attributes, store, redirect policy and login providers; and the session life
 * cycle on a request — resume (load, expiry, idle, refresh, touch) and begin/end.
 *
 * Session lifetime: `ttlSec` from sign-in at most, `idleTtlSec` without a request. The cookie's
 * Max-Age follows the session; "last seen" is written back at most once a minute (a cookie-store
 * session is re-sealed then, a Redis one re-stored with its TTL), not on every request. Tokens
 * are refreshed `refreshBeforeSec` before the access token expires, once per session at a time in
 * this process; a refresh the provider refuses ends the session.
 */
import type { Logger } from 'pino';
import type { VerifiedIdentity } from '../auth/identity.js';
import type { RequestContext } from '../contract/types.js';
import { addResponseHeader } from '../contract/respond.js';
import { chunksSent, CookieJarSpec, readChunked, type CookieNames } from './cookies.js';
import type { UsedStates } from './flow.js';
import type { LoginProvider } from './login-provider.js';
import { RedirectPolicy } from './redirect.js';
import type { SessionsConfig } from './schema.js';
import type { Sealer } from './sealer.js';
import { payloadOf, type SessionData } from './session.js';
import type { SessionStore } from './store.js';

const nowSec = (): number => Math.floor(Date.now() / 1000);

export class SignIn {
  readonly cfg: SessionsConfig;
  readonly prefix: string;
  readonly sealer: Sealer;
  readonly jar: CookieJarSpec;
  readonly store: SessionStore;
  readonly used: UsedStates;
  readonly redirects: RedirectPolicy;
  readonly providers: ReadonlyMap<string, LoginProvider>;
  readonly logger: Logger;
  readonly #touchAfterSec: number;
  readonly #refreshing = new Map<string, Promise<SessionData | null>>();

  constructor(cfg: SessionsConfig, sealer: Sealer, store: SessionStore, used: UsedStates, providers: ReadonlyMap<string, LoginProvider>, logger: Logger) {
    this.cfg = cfg;
    this.prefix = cfg.pathPrefix;
    this.sealer = sealer;
    this.jar = new CookieJarSpec(cfg.cookieName, cfg.cookieDomain);
    this.store = store;
    this.used = used;
    this.redirects = new RedirectPolicy(cfg.allowedRedirectHosts);
    this.providers = providers;
    this.logger = logger;
    this.#touchAfterSec = Math.max(1, Math.min(60, Math.floor(cfg.idleTtlSec / 10)));
  }

  /** The one provider to sign in with when a request does not name one. */
  get soleProvider(): LoginProvider | null {
    return this.providers.size === 1 ? this.providers.values().next().value! : null;
  }

  /** Whether a normalised path is one of the sign-in endpoints' (they answer before any route). */
  owns(path: string): boolean {
    return path.startsWith(this.prefix) && (path.length === this.prefix.length || path.charCodeAt(this.prefix.length) === 47 /* '/' */);
  }

  /** Where a browser without a session is sent: relative, so it stays on the host it asked. */
  signInLocation(ctx: RequestContext, login: LoginProvider): string {
    const rd = ctx.query === '' ? ctx.path : `${ctx.path}?${ctx.query}`;
    const provider = this.providers.size > 1 ? `&provider=${encodeURIComponent(login.name)}` : '';
    return `${this.prefix}/sign-in?rd=${encodeURIComponent(rd)}${provider}`;
  }

  /** When the session ends: the earlier of its absolute and idle ends (seconds). */
  endsAt(s: SessionData): number {
    return Math.min(s.c + this.cfg.ttlSec, s.s + this.cfg.idleTtlSec);
  }

  /** The raw cookie value of the request's session, if it sent one. */
  cookieValue(ctx: RequestContext): string | null {
    return readChunked(ctx.headers.cookie, this.jar.names(ctx.proto).base);
  }

  /** The request's session identity for `login`, refreshed or touched as due; null when none. */
  async resume(ctx: RequestContext, login: LoginProvider): Promise<VerifiedIdentity | null> {
    const names = this.jar.names(ctx.proto);
    const value = readChunked(ctx.headers.cookie, names.base);
    if (value === null) return null;
    let s = await this.store.load(value);
    const now = nowSec();
    if (s === null || s.p !== login.name || this.endsAt(s) <= now) {
      if (s !== null && s.p === login.name) this.#forget(value);
      this.clearCookies(ctx, names);
      return null;
    }
    if (s.rt !== null && s.ate !== null && s.ate - now <= this.cfg.refreshBeforeSec) {
      const refreshed = await this.#refreshOnce(s, login);
      if (refreshed === null) {
        this.#forget(value);
        this.clearCookies(ctx, names);
        return null;
      }
      s = refreshed;
      if (!(await this.#write(ctx, names, s))) return null;
    } else if (now - s.s >= this.#touchAfterSec) {
      s = { ...s, s: now };
      if (!(await this.#write(ctx, names, s))) return null;
    }
    return login.identities.identity(s, this.endsAt(s));
  }

  /** Stores a new session and adds its cookie to the response; false when the store refused. */
  async begin(ctx: RequestContext, s: SessionData): Promise<boolean> {
    return this.#write(ctx, this.jar.names(ctx.proto), s);
  }

  clearCookies(ctx: RequestContext, names: CookieNames = this.jar.names(ctx.proto)): void {
    for (const c of this.jar.clear(names)) addResponseHeader(ctx, 'set-cookie', c);
  }

  async #write(ctx: RequestContext, names: CookieNames, s: SessionData): Promise<boolean> {
    const ttl = this.endsAt(s) - nowSec();
    let value: string;
    try {
      value = await this.store.save(s, ttl);
    } catch (err) {
      this.logger.warn({ requestId: ctx.id, err: err instanceof Error ? err.message : String(err) }, 'session store refused a write; session ended');
      this.clearCookies(ctx, names);
      return false;
    }
    let cookies: string[];
    try {
      cookies = this.jar.write(names, value, ttl, chunksSent(ctx.headers.cookie, names.base));
    } catch {
      this.logger.warn({ requestId: ctx.id, bytes: value.length }, 'session too large for the cookie store (use sessions.store: redis); session ended');
      this.clearCookies(ctx, names);
      return false;
    }
    for (const c of cookies) addResponseHeader(ctx, 'set-cookie', c);
    return true;
  }

  #forget(value: string): void {
    this.store.destroy(value).catch((err: unknown) => {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not delete an ended session');
    });
  }

  #refreshOnce(s: SessionData, login: LoginProvider): Promise<SessionData | null> {
    let p = this.#refreshing.get(s.id);
    if (p === undefined) {
      p = this.#refresh(s, login).finally(() => this.#refreshing.delete(s.id));
      this.#refreshing.set(s.id, p);
    }
    return p;
  }

  async #refresh(s: SessionData, login: LoginProvider): Promise<SessionData | null> {
    const endpoints = login.metadata.endpoints;
    // Discovery not loaded (a restart while the IdP is away): keep the session as it is for now.
    if (endpoints === null) return s;
    const r = await login.tokens.refresh(endpoints, s.rt!);
    if (!r.ok) {
      this.logger.info({ provider: login.name, error: r.error }, 'token refresh refused; session ended');
      return null;
    }
    let idt = s.idt;
    if (r.tokens.idToken !== null) {
      const v = await login.idTokens.verify(r.tokens.idToken, null, r.tokens.accessToken);
      // Core §12.2: a refreshed ID token is about the same user, or it is not taken.
      if (!v.ok || v.identity.sub !== payloadOf(s.idt)?.['sub']) {
        this.logger.info({ provider: login.name, reason: v.ok ? 'sub_changed' : v.reason }, 'refreshed ID token refused; session ended');
        return null;
      }
      idt = r.tokens.idToken;
    }
    return { ...s, idt, rt: r.tokens.refreshToken ?? s.rt, ate: r.tokens.expiresAtSec, sc: r.tokens.scope ?? s.sc, s: nowSec() };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.store.close(), ...[...this.providers.values()].map((p) => p.close())]);
  }
}
