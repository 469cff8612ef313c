/**
 * Request ids (PRODUCT §1.2): an incoming X-Request-Id is kept only from a
 * trusted proxy and only when it is a short token (it lands in logs and
 * headers, so it must not carry CRLF, quotes or megabytes); otherwise one is
 * generated.
 */
import { randomUUID } from 'node:crypto';

const SAFE_ID = /^[A-Za-z0-9._:@+=/-]{1,128}$/;

export function chooseRequestId(incoming: string | string[] | undefined, peerTrusted: boolean): string {
  if (peerTrusted && typeof incoming === 'string' && SAFE_ID.test(incoming)) return incoming;
  // randomUUID draws from a cached entropy pool: cheap enough per request.
  return randomUUID();
}
