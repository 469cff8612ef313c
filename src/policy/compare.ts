/** Code-unit order, the same on every machine and locale: the report's bytes must not depend on either. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/** A listener address reachable from other machines: anything but loopback (0.0.0.0 and :: included). */
export function isExposed(host: string): boolean {
  return !LOOPBACK.test(host);
}
