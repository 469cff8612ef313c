/**
 * A real OpenID provider on 127.0.0.1 for the sign-in tests: the `oidc-provider` package (a
 * certified OP implementation), not something written to agree with the gateway. One confidential
 * client, one test user, and an interaction that signs the user in and grants consent without a
 * UI, so both a plain HTTP client and a headless browser can run the whole flow.
 *
 * Knobs a test needs: the access token lifetime (to force refreshes), which client auth method
 * the client is registered with, and `revokeGrants` (refreshes then fail with invalid_grant, as
 * for a grant revoked at the provider). `tokenRequests` records what the gateway sent to the
 * token endpoint.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

export const TEST_USER = Object.freeze({ sub: 'alice', email: 'alice@example.test', name: 'Alice Example', roles: ['staff'] });

export interface OpOptions {
  /** The gateway's callback URL(s) registered for the client. */
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris?: readonly string[];
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly authMethod?: 'client_secret_basic' | 'client_secret_post';
  readonly accessTokenTtlSec?: number;
  /** Fixed port (a restart test starts the OP again on the same one); 0 picks one. */
  readonly port?: number;
}

export interface TokenRequestSeen {
  readonly grantType: string;
  readonly basicAuth: boolean;
  readonly bodyClientSecret: boolean;
  readonly codeVerifier: boolean;
  readonly status: number;
}

interface OpKoaContext {
  readonly path: string;
  readonly method: string;
  readonly status: number;
  get(name: string): string;
  readonly oidc?: { readonly body?: Record<string, unknown> };
}

export interface TestOp {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly port: number;
  /** Deletes every grant the OP issued: refresh tokens then fail with invalid_grant, as after a revocation. */
  revokeGrants(): Promise<void>;
  readonly tokenRequests: TokenRequestSeen[];
  /** Sign-outs the OP's end_session endpoint completed. */
  readonly endSessions: { count: number };
  close(): Promise<void>;
}

export async function startOp(opts: OpOptions): Promise<TestOp> {
  const port = await listenPort(opts.port ?? 0);
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = opts.clientId ?? 'portcullis-test';
  const clientSecret = opts.clientSecret ?? 'op-client-secret-0123456789abcdef';
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'op-rs256', alg: 'RS256', use: 'sig' };
  const endSessions = { count: 0 };

  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [...opts.redirectUris],
      post_logout_redirect_uris: [...(opts.postLogoutRedirectUris ?? [])],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: opts.authMethod ?? 'client_secret_basic',
    }],
    jwks: { keys: [jwk] },
    cookies: { keys: ['op-cookie-key-0123456789abcdef'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], roles: ['roles'] },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'roles'],
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        // No UI: the confirmation form submits itself (a browser runs it; the gateway test follows it).
        logoutSource: async (ctx: { body: string }, form: string) => {
          ctx.body = `<!doctype html><html><body>${form}<script>var f=document.forms[0];var i=document.createElement('input');i.type='hidden';i.name='logout';i.value='yes';f.appendChild(i);f.submit();</script></body></html>`;
        },
        postLogoutSuccessSource: async (ctx: { body: string }) => {
          endSessions.count++;
          ctx.body = '<!doctype html><html><body><p id="op-signed-out">signed out at the provider</p></body></html>';
        },
      },
    },
    pkce: { required: () => true },
    issueRefreshToken: async () => true,
    ttl: {
      AccessToken: opts.accessTokenTtlSec ?? 3600,
      IdToken: 3600,
      RefreshToken: 24 * 3600,
      Grant: 24 * 3600,
      Session: 24 * 3600,
      Interaction: 600,
      AuthorizationCode: 60,
    },
    findAccount: async (_ctx: unknown, sub: string) => (sub !== TEST_USER.sub ? undefined : {
      accountId: sub,
      claims: async () => ({ sub, email: TEST_USER.email, email_verified: true, name: TEST_USER.name, roles: [...TEST_USER.roles] }),
    }),
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
  });
  provider.on('server_error', () => undefined);
  // What the gateway sent to the token endpoint, read after oidc-provider parsed it.
  provider.use(async (ctx: OpKoaContext, next: () => Promise<void>) => {
    await next();
    if (ctx.path !== '/token' || ctx.method !== 'POST') return;
    const body = ctx.oidc?.body ?? {};
    tokenRequests.push({
      grantType: String(body['grant_type'] ?? ''),
      basicAuth: (ctx.get('authorization') ?? '').startsWith('Basic '),
      bodyClientSecret: body['client_secret'] !== undefined,
      codeVerifier: body['code_verifier'] !== undefined,
      status: ctx.status,
    });
  });
  const callback = provider.callback();
  const tokenRequests: TokenRequestSeen[] = [];
  const grants: string[] = [];
  const op: TestOp = {
    issuer, clientId, clientSecret, port, tokenRequests, endSessions,
    revokeGrants: async () => {
      for (const id of grants.splice(0)) await (await provider.Grant.find(id))?.destroy();
    },
    close: async () => undefined,
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = req.url ?? '/';
      if (url.startsWith('/interaction/')) return void grants.push(await signInWithoutUi(provider, req, res));
      callback(req, res);
    } catch (err) {
      res.writeHead(500);
      res.end(String(err));
    }
  }
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  (op as { close: () => Promise<void> }).close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return op;
}

/** The interaction: log the test user in and grant every requested scope, no page shown. */
async function signInWithoutUi(provider: Provider, req: IncomingMessage, res: ServerResponse): Promise<string> {
  const details = await provider.interactionDetails(req, res);
  const params = details.params as Record<string, string>;
  const grant = new provider.Grant({ accountId: TEST_USER.sub, clientId: params['client_id']! });
  grant.addOIDCScope(params['scope'] ?? 'openid');
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId: TEST_USER.sub }, consent: { grantId } }, { mergeWithLastSubmission: false });
  return grantId;
}

function listenPort(port: number): Promise<number> {
  if (port !== 0) return Promise.resolve(port);
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}
