/**
 * Is this request a person's browser navigating, who can be sent to sign in, or a program that
 * should get the API's 401? A redirect is only useful for a top-level GET/HEAD whose answer the
 * user sees: `Sec-Fetch-Mode: navigate` (Fetch Metadata, every current browser) or an Accept
 * asking for HTML. Anything marked XHR, asking for JSON first, or any other method gets 401 as
 * without sign-in. (A request carrying a token never gets here: its token decides.)
 */
import type { IncomingHttpHeaders } from 'node:http';

export function isBrowserNavigation(method: string, h: IncomingHttpHeaders): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (h['x-requested-with'] !== undefined) return false;
  const mode = h['sec-fetch-mode'];
  if (mode !== undefined) return mode === 'navigate';
  const accept = h.accept;
  return accept !== undefined && accept.includes('text/html') && !accept.trimStart().startsWith('application/json');
}
