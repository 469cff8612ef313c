/**
 * The decoded messages of envoy.service.auth.v3.Authorization/Check as @grpc/proto-loader hands
 * them over (protos.ts: field names as in the .proto, absent fields undefined, int64 as string).
 * Only what the adapter reads or writes is typed; every field is optional because any client
 * may send any subset, and a message that does not parse never reaches us (grpc-js answers it).
 */
export interface HeaderValueMessage {
  readonly key?: string;
  readonly value?: string;
  readonly raw_value?: Buffer;
}

export interface HttpRequestMessage {
  readonly id?: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly header_map?: { readonly headers?: readonly HeaderValueMessage[] };
  readonly path?: string;
  readonly host?: string;
  readonly scheme?: string;
  readonly query?: string;
  readonly fragment?: string;
  readonly protocol?: string;
}

export interface PeerMessage {
  readonly address?: { readonly socket_address?: { readonly address?: string; readonly port_value?: number } };
}

export interface CheckRequestMessage {
  readonly attributes?: {
    readonly source?: PeerMessage;
    readonly request?: { readonly http?: HttpRequestMessage };
  };
}

/** HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD: replace the client's copy. */
export const OVERWRITE_IF_EXISTS_OR_ADD = 2;

export interface HeaderValueOptionMessage {
  readonly header: { readonly key: string; readonly value: string };
  readonly append_action: number;
}

export interface CheckResponseMessage {
  readonly status: { readonly code: number; readonly message?: string };
  readonly ok_response?: {
    readonly headers: readonly HeaderValueOptionMessage[];
    readonly headers_to_remove: readonly string[];
    readonly response_headers_to_add: readonly HeaderValueOptionMessage[];
  };
  readonly denied_response?: {
    readonly status: { readonly code: number };
    readonly headers: readonly HeaderValueOptionMessage[];
    readonly body: string;
  };
}
