/**
 * `listeners.https.hsts` (issue 7; RFC 6797): one object per HTTPS listener, shared by every path
 * that answers on it — the pipeline, CONNECT and Expect refusals, WebSocket denials and relayed
 * upgrade answers, parser errors — so no answer over TLS goes out without the header. A reload
 * replaces `value` in place (https-listener.ts reconfigure).
 *
 * Never used on the plain listener: RFC 6797 §7.2 forbids the header over non-secure transport.
 */
import type { IncomingMessage } from 'node:http';

export const HSTS_HEADER = 'strict-transport-security';

export class Hsts {
  /** The header value, or null when the listener sends none. */
  value: string | null;

  constructor(value: string | null) {
    this.value = value;
  }

  /** Sets the header on a response not yet written (writeHead merges it with its own headers). */
  apply(res: { setHeader(name: string, value: string): unknown }): void {
    if (this.value !== null) res.setHeader(HSTS_HEADER, this.value);
  }

  /** The header line (CRLF included) for a response written by hand on the socket; '' when none. */
  line(): string {
    return this.value === null ? '' : `Strict-Transport-Security: ${this.value}\r\n`;
  }

  /**
   * An upstream's answer relayed as it came (WebSocket upgrades, http-proxy-3): the listener's
   * value replaces the upstream's own, one field as RFC 6797 §6.1 requires — as proxy/forward.ts
   * does for ordinary responses.
   */
  readonly replaceIn = (upstreamRes: IncomingMessage): void => {
    if (this.value !== null) upstreamRes.headers[HSTS_HEADER] = this.value;
  };
}
