/**
 * RFC 9449 §7.1: `Authorization: DPoP <token68>`, scheme case-insensitive (RFC 9110 §11.1), as
 * token-source.ts reads `Bearer`. null: another scheme (or no header). `DPoP` with nothing after
 * it yields '', which the token parser refuses as malformed rather than as anonymous.
 */
const SP = 32;

export function dpopToken(value: string | undefined): string | null {
  if (value === undefined || value.length < 4 || value.slice(0, 4).toLowerCase() !== 'dpop') return null;
  if (value.length === 4) return '';
  let i = 4;
  if (value.charCodeAt(i) !== SP) return null; // "DPoPx…" is another scheme
  while (i < value.length && value.charCodeAt(i) === SP) i++;
  return value.slice(i).trimEnd();
}
