/**
 * How an upstream failure is answered (PRODUCT §1, issue 2): connect
 * failures 502, timeouts 504, an oversized body 413. The client never sees
 * the underlying error text.
 */
import { BodyTooLargeError } from './body-limit.js';

/** Errors that prove no byte of the request reached the upstream. */
const CONNECT_PHASE = new Set([
  'ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
]);

const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export function errorCode(err: unknown): string {
  if (err !== null && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const cause = (err as { cause?: unknown }).cause;
    if (cause !== undefined && cause !== err) return errorCode(cause);
  }
  return 'UNKNOWN';
}

export function isConnectPhaseError(err: unknown): boolean {
  return CONNECT_PHASE.has(errorCode(err));
}

export function statusForUpstreamError(err: unknown): number {
  if (err instanceof BodyTooLargeError) return 413;
  return TIMEOUTS.has(errorCode(err)) ? 504 : 502;
}
