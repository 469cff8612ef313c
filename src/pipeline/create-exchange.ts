/**
 * An Exchange for a request a listener accepted (PRODUCT §1.2–§1.4): request id, client address,
 * method, Host and the normalised target, read once; shared by the edge shape, the WebSocket
 * upgrade, the HTTPS redirect and the server's own refusals (CONNECT, Expect, parser errors).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { canonicalIp } from '../route/client-ip.js';
import { normaliseTarget } from '../route/normalise.js';
import { isKnownMethod, OTHER_METHOD } from '../observe/method-label.js';
import { RequestCtx } from './context.js';
import { Exchange } from './exchange.js';
import type { Gateway } from './gateway.js';
import { refusedForFraming } from './framing.js';
import { hasValidHostHeader, hostOf } from './host.js';
import { chooseRequestId } from './request-id.js';
import { startRequestTrace } from './trace.js';

const NOT_ORIGIN_FORM = Object.freeze({ ok: false, reason: 'not_origin_form' } as const);
const BAD_HOST = Object.freeze({ ok: false, reason: 'bad_host_header' } as const);
const BAD_METHOD = Object.freeze({ ok: false, reason: 'bad_method' } as const);
const BAD_FRAMING = Object.freeze({ ok: false, reason: 'bad_transfer_encoding' } as const);
/** Builds the per-request context shared by the edge and forward-auth shapes. */
export function createExchange(req: IncomingMessage, res: ServerResponse, gateway: Gateway, listenerProto: string): Exchange {
  const startNs = process.hrtime.bigint();
  const headers = req.headers;
  const peer = canonicalIp(req.socket.remoteAddress ?? '');
  const peerTrusted = gateway.trusted.isTrusted(peer);
  const id = chooseRequestId(headers['x-request-id'], peerTrusted);
  const url = req.url ?? '';
  // Only origin-form: an absolute-form target names a host that could disagree with Host (RFC 9112 §3.2.2).
  // A method Node's HTTP/1.1 parser would refuse: 400, as forward-auth answers an unknown
  // original method. Only HTTP/2 can carry one (any token in :method, issue 22 item 3).
  // A Transfer-Encoding other than a lone `chunked` (framing.ts): 400 before anything reads the body.
  const target = !isKnownMethod(req.method) ? BAD_METHOD
    : refusedForFraming(req) ? BAD_FRAMING
      : url.charCodeAt(0) !== 47 /* '/' */ ? NOT_ORIGIN_FORM
        : !hasValidHostHeader(req.rawHeaders, req.httpVersion, 'stream' in req) ? BAD_HOST
          : normaliseTarget(url);
  const xfp = peerTrusted ? headers['x-forwarded-proto'] : undefined;
  const proto = xfp === 'https' || xfp === 'http' ? xfp : listenerProto;
  const xff = headers['x-forwarded-for'];
  const clientIp = gateway.trusted.clientAddress(peer, typeof xff === 'string' ? xff : undefined);
  const ctx = new RequestCtx(
    id, clientIp, 'edge', target === BAD_METHOD ? OTHER_METHOD : req.method ?? 'GET', hostOf(headers.host ?? headers[':authority'] as string | undefined),
    target.ok ? target.path : rawPathForLog(req.url), target.ok ? target.query : '', proto, headers, startNs,
  );
  ctx.rawHeaders = req.rawHeaders;
  ctx.peerTrusted = peerTrusted;
  const x = new Exchange(req, res, ctx, gateway);
  x.peerTrusted = peerTrusted;
  x.peer = peer;
  x.targetOk = target.ok;
  if (gateway.tracing.enabled) startRequestTrace(x);
  return x;
}

/**
 * For a target we refused, log only an origin-form path before any query or fragment,
 * bounded: an absolute-form target can carry `user:password@`, a fragment a token.
 */
function rawPathForLog(url: string | undefined): string {
  if (url === undefined || url.charCodeAt(0) !== 47 /* '/' */) return '(not origin-form)';
  let end = url.length;
  const q = url.indexOf('?');
  if (q >= 0) end = q;
  const h = url.indexOf('#');
  if (h >= 0 && h < end) end = h;
  return url.slice(0, Math.min(end, 256));
}

