/**
 * TLS listener options that Node does not expose directly: the handshake timeout a reload
 * changes in place, and the bounded label a failed handshake is counted under. Shared by the
 * HTTPS and auth listeners (server/tls-listener.ts).
 */

/**
 * The TLS handshake timeout (`server.limits.headersTimeoutMs`) on reload. tls.Server takes it
 * only as a constructor option, keeps it in an own symbol property and reads that for every new
 * connection (Node's lib/_tls_wrap.js, `tlsConnectionListener`); `setSecureContext()` does not
 * take it. So the property is found by its description and written. False when this Node keeps
 * it elsewhere: the caller then says the value applies on restart.
 */
export function setHandshakeTimeout(server: object, ms: number): boolean {
  const key = Object.getOwnPropertySymbols(server).find((k) => k.description === 'handshake-timeout');
  if (key === undefined || typeof (server as Record<symbol, unknown>)[key] !== 'number') return false;
  (server as Record<symbol, number>)[key] = ms;
  return true;
}

/** Why a handshake failed, as a bounded metric label. */
export function handshakeReason(code: string | undefined): string {
  if (code === undefined) return 'other';
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'timeout';
  if (code.includes('PROTOCOL') || code.includes('VERSION')) return 'protocol_version';
  if (code.includes('CERTIFICATE')) return 'client_certificate';
  return 'other';
}
