/**
 * A real gRPC client of envoy.service.auth.v3.Authorization/Check, built from the same .proto
 * files the gateway serves (src/forward-auth/grpc/proto; their field numbers are checked against
 * Envoy's own by bench/envoy-protos.ts). `checkRaw` sends bytes as they are, for malformed
 * messages.
 */
import { credentials, makeGenericClientConstructor, Metadata, type Client, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import type { AddressInfo } from 'node:net';
import { authorizationService } from '../../src/forward-auth/grpc/protos.js';
import type { TestGateway } from './gateway.js';

export interface HeaderOption {
  header: { key: string; value: string };
  append_action?: number;
}

/** A decoded CheckResponse (proto-loader: field names as in the .proto, absent fields undefined). */
export interface CheckResponse {
  status?: { code?: number; message?: string };
  ok_response?: { headers?: HeaderOption[]; headers_to_remove?: string[]; response_headers_to_add?: HeaderOption[] };
  denied_response?: { status?: { code?: number }; headers?: HeaderOption[]; body?: string };
}

export interface HttpAttributes {
  id?: string;
  method?: string;
  path?: string;
  host?: string;
  scheme?: string;
  headers?: Record<string, string>;
  header_map?: { headers: { key: string; value?: string; raw_value?: Buffer }[] };
}

export interface CheckRequest {
  attributes?: {
    source?: { address?: { socket_address?: { address: string; port_value: number } } };
    request?: { http?: HttpAttributes };
  };
}

type Callback<T> = (err: ServiceError | null, res?: T) => void;
type CheckClient = Client & {
  Check(req: unknown, meta: Metadata, opts: { deadline?: number }, cb: Callback<CheckResponse>): {
    cancel(): void;
    on(event: 'metadata', listener: (m: Metadata) => void): void;
  };
};

/** An answer with the response (initial) metadata the server sent before it. */
export interface CheckAnswer {
  readonly response: CheckResponse;
  readonly metadata: Record<string, string>;
}

const Authorization = makeGenericClientConstructor(authorizationService(), 'Authorization');
const RawAuthorization = makeGenericClientConstructor(
  { Check: { ...authorizationService()['Check']!, requestSerialize: (b: Buffer) => b } }, 'Authorization',
);

export class CheckClientOf {
  readonly #client: CheckClient;
  readonly #raw: CheckClient;

  constructor(address: string, creds: ChannelCredentials = credentials.createInsecure(), options: Record<string, string> = {}) {
    this.#client = new Authorization(address, creds, options) as unknown as CheckClient;
    this.#raw = new RawAuthorization(address, creds, options) as unknown as CheckClient;
  }

  check(req: CheckRequest, deadlineMs = 5_000): Promise<CheckResponse> {
    return call(this.#client, req, deadlineMs);
  }

  /** As check(), with the response metadata (where the gateway names its trace span). */
  checkWithMetadata(req: CheckRequest, deadlineMs = 5_000): Promise<CheckAnswer> {
    return new Promise((resolve, reject) => {
      const metadata: Record<string, string> = {};
      const c = this.#client.Check(req, new Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve({ response: res!, metadata })));
      c.on('metadata', (m) => {
        for (const [k, v] of Object.entries(m.getMap())) metadata[k] = String(v);
      });
    });
  }

  /** The RPC's own error (grpc status), or null when it answered. */
  async checkError(req: CheckRequest | Buffer, deadlineMs = 5_000): Promise<ServiceError | null> {
    try {
      await call(Buffer.isBuffer(req) ? this.#raw : this.#client, req, deadlineMs);
      return null;
    } catch (err) {
      return err as ServiceError;
    }
  }

  /** Starts a call and cancels it at once, as Envoy does when its own client goes away. */
  cancelled(req: CheckRequest): Promise<ServiceError | null> {
    return new Promise((resolve) => {
      const c = this.#client.Check(req, new Metadata(), { deadline: Date.now() + 5_000 }, (err) => resolve(err));
      c.cancel();
    });
  }

  close(): void {
    this.#client.close();
    this.#raw.close();
  }
}

function call(client: CheckClient, req: unknown, deadlineMs: number): Promise<CheckResponse> {
  return new Promise((resolve, reject) => {
    client.Check(req, new Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

/** The bound port of the gateway's authGrpc listener. */
export function grpcPort(gw: TestGateway): number {
  const l = gw.runtime.listeners.find((x) => x.name === 'authGrpc');
  if (l === undefined) throw new Error('no authGrpc listener');
  return (l.server.address() as AddressInfo).port;
}

/** A CheckRequest as Envoy builds one for `method path` with `headers` (host: the :authority). */
export function envoyCheck(method: string, path: string, headers: Record<string, string> = {}, host = '127.0.0.1', source = '127.0.0.1'): CheckRequest {
  return {
    attributes: {
      source: { address: { socket_address: { address: source, port_value: 40_000 } } },
      request: { http: { method, path, host, scheme: 'http', headers: { ':authority': host, ':path': path, ':method': method, ...headers } } },
    },
  };
}

/** `name → value` of a list of HeaderValueOption (a repeated name: its values joined by ", "). */
export function headerMap(options: HeaderOption[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of options ?? []) out[o.header.key] = out[o.header.key] === undefined ? o.header.value : out[o.header.key] + ', ' + o.header.value;
  return out;
}
