/**
 * Calls to the provider's token endpoint (RFC 6749 §4.1.3 code exchange with the PKCE verifier of
 * RFC 7636 §4.5, §6 refresh), authenticated as the configured client: client_secret_basic
 * (§2.3.1: id and secret form-urlencoded before base64) unless the provider supports only
 * client_secret_post, or the config says which. Bounded like every outbound call: a 5 s deadline
 * and a 256 KiB answer. Never throws: an outcome is a value, and no token ends up in a message.
 */
import { request, type Agent } from 'undici';
import { DEFAULT_FETCH_LIMITS, newAgent } from '../auth/jwks-fetch.js';
import type { ProviderClientConfig } from './schema.js';
import type { ProviderEndpoints } from './metadata.js';

export interface TokenSet {
  readonly accessToken: string;
  readonly idToken: string | null;
  readonly refreshToken: string | null;
  /** Access token expiry, seconds since the epoch; null when the provider did not say. */
  readonly expiresAtSec: number | null;
  readonly scope: string | null;
}

/** `error` of a refused call: the provider's own code when it gave one (invalid_grant …), else why we gave up. */
export type TokenFailure = { readonly ok: false; readonly error: string };
export type TokenResult = { readonly ok: true; readonly tokens: TokenSet } | TokenFailure;

const MAX_ANSWER_BYTES = 256 * 1024;
const OAUTH_ERROR = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/;

function formEncode(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+');
}

export class TokenClient {
  readonly #client: ProviderClientConfig;
  readonly #agent: Agent = newAgent(DEFAULT_FETCH_LIMITS);

  constructor(client: ProviderClientConfig) {
    this.#client = client;
  }

  exchangeCode(endpoints: ProviderEndpoints, code: string, verifier: string): Promise<TokenResult> {
    return this.#call(endpoints, { grant_type: 'authorization_code', code, redirect_uri: this.#client.redirectUri, code_verifier: verifier });
  }

  refresh(endpoints: ProviderEndpoints, refreshToken: string): Promise<TokenResult> {
    return this.#call(endpoints, { grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  #useBasic(endpoints: ProviderEndpoints): boolean {
    const chosen = this.#client.tokenEndpointAuthMethod;
    if (chosen !== undefined) return chosen === 'client_secret_basic';
    return endpoints.authMethods.includes('client_secret_basic') || !endpoints.authMethods.includes('client_secret_post');
  }

  async #call(endpoints: ProviderEndpoints, params: Record<string, string>): Promise<TokenResult> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': 'portcullis' };
    const form = new URLSearchParams(params);
    if (this.#useBasic(endpoints)) {
      headers['authorization'] = 'Basic ' + Buffer.from(`${formEncode(this.#client.id)}:${formEncode(this.#client.secret)}`).toString('base64');
    } else {
      form.set('client_id', this.#client.id);
      form.set('client_secret', this.#client.secret);
    }
    const timeoutMs = DEFAULT_FETCH_LIMITS.timeoutMs;
    let status: number;
    let text: string;
    try {
      const res = await request(endpoints.token, {
        method: 'POST', headers, body: form.toString(), dispatcher: this.#agent,
        signal: AbortSignal.timeout(timeoutMs), headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
      });
      status = res.statusCode;
      text = await readBounded(res.body);
    } catch {
      return { ok: false, error: 'token_endpoint_unreachable' };
    }
    let doc: Record<string, unknown>;
    try {
      const parsed = JSON.parse(text) as unknown;
      doc = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
    } catch {
      return { ok: false, error: 'token_endpoint_bad_answer' };
    }
    if (status !== 200) {
      const e = doc['error'];
      return { ok: false, error: typeof e === 'string' && OAUTH_ERROR.test(e) ? e : `token_endpoint_http_${status}` };
    }
    const access = doc['access_token'];
    if (typeof access !== 'string' || access === '') return { ok: false, error: 'token_endpoint_bad_answer' };
    const str = (name: string): string | null => (typeof doc[name] === 'string' && doc[name] !== '' ? (doc[name] as string) : null);
    const expiresIn = doc['expires_in'];
    return {
      ok: true,
      tokens: {
        accessToken: access,
        idToken: str('id_token'),
        refreshToken: str('refresh_token'),
        expiresAtSec: typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0 ? Math.floor(Date.now() / 1000 + expiresIn) : null,
        scope: str('scope'),
      },
    };
  }

  close(): Promise<void> {
    return this.#agent.destroy();
  }
}

async function readBounded(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) {
      body.destroy();
      throw new RangeError('token endpoint answer too large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
