/**
 * The decision as a CheckResponse (envoy.service.auth.v3): the very answer `/envoy` gives over
 * HTTP (allow.ts, contract/respond.ts), in the fields Envoy's gRPC client reads
 * (ext_authz_grpc_impl.cc): `status.code` 0 allows and anything else denies; a denial's HTTP
 * status, headers and body come from `denied_response`, an allow's request changes from
 * `ok_response`.
 *
 * Where HTTP needs Envoy's config to sort the allow's headers (allowed_upstream_headers,
 * allowed_client_headers_on_success, x-envoy-auth-headers-to-remove), gRPC says it per field:
 * - `ok_response.headers`: the route's identity headers, each replacing a client's copy
 *   (append_action OVERWRITE_IF_EXISTS_OR_ADD; an Envoy that predates append_action reads the
 *   absent `append` as false, which also overwrites);
 * - `ok_response.headers_to_remove`: the client's spoofed identity headers (alias spellings
 *   included) and, with `forwardAuthorization: false`, Authorization and the token headers —
 *   never a name the allow sets, so the order in which Envoy applies the two lists cannot matter;
 * - the token cookie, which HTTP cannot cut out of Cookie: `cookie` is replaced by the value
 *   without it (or removed when nothing is left);
 * - `ok_response.response_headers_to_add`: what the stages add for the client (RateLimit
 *   fields, a refreshed session cookie), appended to the upstream's answer as the edge does.
 */
import type { Respond } from '../../contract/types.js';
import { denialBody, errorCodeFor } from '../../contract/respond.js';
import { appendIdentityHeaders } from '../../proxy/identity-headers.js';
import type { CompiledRoute } from '../../route/compiled-route.js';
import type { RequestCtx } from '../../pipeline/context.js';
import { OVERWRITE_IF_EXISTS_OR_ADD, type CheckResponseMessage, type HeaderValueOptionMessage } from './messages.js';

/** HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD (the proto default). */
const APPEND_IF_EXISTS_OR_ADD = 0;

/** google.rpc.Code values (googleapis google/rpc/code.proto), by the HTTP status each maps from there. */
const GRPC_CODE_OF_STATUS: Readonly<Record<number, number>> = {
  200: 0, // OK
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 5, // NOT_FOUND
  429: 8, // RESOURCE_EXHAUSTED
  431: 3,
  500: 13, // INTERNAL
  501: 12, // UNIMPLEMENTED
  503: 14, // UNAVAILABLE
  504: 4, // DEADLINE_EXCEEDED
};
const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;

/** The CheckResponse status code of a denial with HTTP `status` (never 0: any other status denies). */
export function grpcCodeOf(status: number): number {
  // A sign-in redirect (302, session/stage.ts) asks the user to authenticate.
  if (status === 302) return UNAUTHENTICATED;
  return GRPC_CODE_OF_STATUS[status] ?? (status >= 500 ? 13 : PERMISSION_DENIED);
}

/** One HeaderValueOption per pair, named in lower case as HTTP/2 spells fields; a name's later lines append to its first. */
function options(pairs: readonly string[], firstAction: number): HeaderValueOptionMessage[] {
  const out: HeaderValueOptionMessage[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < pairs.length; i += 2) {
    const key = pairs[i]!.toLowerCase();
    out.push({ header: { key, value: pairs[i + 1]! }, append_action: seen.has(key) ? APPEND_IF_EXISTS_OR_ADD : firstAction });
    seen.add(key);
  }
  return out;
}

export function allowResponse(ctx: RequestCtx, route: CompiledRoute, spoofed: readonly string[] | null): CheckResponseMessage {
  const upstream: string[] = [];
  appendIdentityHeaders(upstream, ctx.identity, route.identityHeaders, ctx.clientCert);
  const remove = new Set<string>(spoofed);
  const strip = route.credentialStrip;
  if (strip !== null) {
    for (const h of strip.headers) remove.add(h);
    const cookie = ctx.headers.cookie;
    if (strip.stripsCookies && cookie !== undefined) {
      const kept = strip.cookie(cookie);
      if (kept === null) remove.add('cookie');
      else upstream.push('cookie', kept);
    }
  }
  for (let i = 0; i < upstream.length; i += 2) remove.delete(upstream[i]!.toLowerCase());
  return {
    status: { code: 0 },
    ok_response: {
      headers: options(upstream, OVERWRITE_IF_EXISTS_OR_ADD),
      headers_to_remove: [...remove],
      response_headers_to_add: options(ctx.responseHeaders ?? [], APPEND_IF_EXISTS_OR_ADD),
    },
  };
}

/** A denial with its real status, the JSON body and the headers sendRespond writes (contract/respond.ts). */
export function deniedResponse(ctx: RequestCtx, r: Respond): CheckResponseMessage {
  const error = r.error ?? errorCodeFor(r.status);
  const body = denialBody(error, ctx.id);
  // As sendRespond: a denial's own headers replace the defaults, the stages' headers add lines.
  const fields: Record<string, string> = { 'x-request-id': ctx.id, 'cache-control': 'no-store', 'content-type': 'application/json', ...r.headers };
  const pairs: string[] = [];
  for (const name in fields) pairs.push(name, fields[name]!);
  if (ctx.responseHeaders !== null) pairs.push(...ctx.responseHeaders);
  return {
    status: { code: grpcCodeOf(r.status), message: error },
    denied_response: { status: { code: r.status }, headers: options(pairs, OVERWRITE_IF_EXISTS_OR_ADD), body },
  };
}

/** The bytes of a denial's body, for the access log's bytesOut. */
export function bodyBytes(res: CheckResponseMessage): number {
  return res.denied_response === undefined ? 0 : Buffer.byteLength(res.denied_response.body);
}
