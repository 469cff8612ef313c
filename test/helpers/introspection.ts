/**
 * A real RFC 7662 authorisation server on 127.0.0.1 for the introspection tests: POST
 * /introspect (form body, client authentication by HTTP Basic or form members, RFC 6749
 * §2.3.1), OpenID discovery advertising it (`introspection_endpoint`, RFC 8414 §2) and a JWKS,
 * with call counters and failure modes (HTTP 503, connection reset, slow, no answer).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestKey } from './idp.js';

export type AsMode = 'up' | 'error' | 'reset' | 'hang' | 'garbage';

export interface IntrospectionCall {
  readonly token: string | null;
  /** How the client authenticated: 'basic', 'post' or null. */
  readonly auth: 'basic' | 'post' | null;
  readonly clientId: string | null;
}

export class TestAuthServer {
  readonly server: Server;
  readonly issuer: string;
  readonly endpoint: string;
  readonly calls: IntrospectionCall[] = [];
  mode: AsMode = 'up';
  /** Delay before answering an introspection, in ms. */
  delayMs = 0;
  /** Active tokens and the members answered for them; every other token is `active: false`. */
  readonly active = new Map<string, Record<string, unknown>>();
  readonly #clientId: string;
  readonly #clientSecret: string;
  readonly #keys: TestKey[];

  private constructor(server: Server, clientId: string, clientSecret: string, keys: TestKey[]) {
    this.server = server;
    this.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.endpoint = `${this.issuer}/introspect`;
    this.#clientId = clientId;
    this.#clientSecret = clientSecret;
    this.#keys = keys;
  }

  static async start(clientId: string, clientSecret: string, keys: TestKey[] = []): Promise<TestAuthServer> {
    let as: TestAuthServer | null = null;
    const server = createServer((req, res) => as!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    as = new TestAuthServer(server, clientId, clientSecret, keys);
    return as;
  }

  /** Calls for one token. */
  callsFor(token: string): number {
    return this.calls.filter((c) => c.token === token).length;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'GET' && req.url === '/.well-known/openid-configuration') {
      return void json(res, 200, { issuer: this.issuer, jwks_uri: `${this.issuer}/jwks`, introspection_endpoint: this.endpoint });
    }
    if (req.method === 'GET' && req.url === '/jwks') return void json(res, 200, { keys: this.#keys.map((k) => k.jwk) });
    if (req.method !== 'POST' || req.url !== '/introspect') return void res.writeHead(404).end();
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      let auth: IntrospectionCall['auth'] = null;
      let id: string | null = null;
      let secret: string | null = null;
      if (basic !== null) {
        const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        // RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding.
        id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
        secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
        auth = 'basic';
      } else if (form.has('client_id')) {
        id = form.get('client_id');
        secret = form.get('client_secret');
        auth = 'post';
      }
      const token = form.get('token');
      this.calls.push({ token, auth, clientId: id });
      const answer = (): void => {
        if (this.mode === 'reset') return void res.socket?.destroy();
        if (this.mode === 'hang') return;
        if (this.mode === 'error') return void res.writeHead(503).end();
        if (this.mode === 'garbage') return void json(res, 200, { ok: true });
        if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return void json(res, 400, { error: 'invalid_request' });
        if (id !== this.#clientId || secret !== this.#clientSecret) return void json(res, 401, { error: 'invalid_client' });
        const members = token === null ? undefined : this.active.get(token);
        json(res, 200, members === undefined ? { active: false } : { active: true, ...members });
      };
      if (this.delayMs > 0) setTimeout(answer, this.delayMs);
      else answer();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => { this.server.closeAllConnections(); this.server.close(() => resolve()); });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
