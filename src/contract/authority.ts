/**
 * The port of a Host-style authority, shared by the forward-auth adapters (which establish the
 * original request's port) and DPoP's htu check (which compares it): one parser, so the two can
 * never disagree on what `host:08443` or `[::1]:8443` names.
 */
const PORT = /^[0-9]{1,5}$/;

/** A port value in canonical form (`08443` → `8443`), or null when it is not 1–5 digits. */
export function portValue(value: string): string | null {
  return PORT.test(value) ? String(Number(value)) : null;
}

/** The port of an authority (`host`, `host:8443`, `[::1]:8443`), or null when it names none. */
export function portOf(authority: string): string | null {
  const close = authority.lastIndexOf(']');
  const colon = authority.lastIndexOf(':');
  if (colon < 0 || colon < close) return null;
  return portValue(authority.slice(colon + 1));
}
