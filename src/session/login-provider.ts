/**
 * A provider with a `client`, compiled for sign-in: its discovery document, token endpoint
 * client, ID token verifier (on the provider's own key store) and session identity builder.
 */
import type { Logger } from 'pino';
import type { ProviderConfig } from '../config/types.js';
import type { KeySource } from '../auth/key-store.js';
import type { Tracing } from '../observe/tracing/tracing.js';
import { IdTokenVerifier } from './id-token.js';
import { ProviderMetadata } from './metadata.js';
import type { ProviderClientConfig } from './schema.js';
import { SessionIdentities } from './session.js';
import { TokenClient } from './token-client.js';

export class LoginProvider {
  readonly name: string;
  readonly client: ProviderClientConfig;
  readonly metadata: ProviderMetadata;
  readonly tokens: TokenClient;
  readonly idTokens: IdTokenVerifier;
  readonly identities: SessionIdentities;
  /** The scope parameter, joined once. */
  readonly scope: string;

  constructor(cfg: ProviderConfig, client: ProviderClientConfig, keys: KeySource, logger: Logger, tracing: Tracing | null = null) {
    this.name = cfg.name;
    this.client = client;
    this.metadata = new ProviderMetadata(cfg.name, cfg.issuer, logger, tracing);
    this.tokens = new TokenClient(client);
    this.idTokens = new IdTokenVerifier(cfg, client.id, keys);
    this.identities = new SessionIdentities(cfg);
    this.scope = client.scopes.join(' ');
  }

  async close(): Promise<void> {
    // The metadata is a gateway resource of its own (compile.ts), closed with the others.
    await this.tokens.close();
  }
}
