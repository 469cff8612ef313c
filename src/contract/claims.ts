/**
 * Claim paths such as `realm_access.roles` are split once at config load;
 * reading one per request is a short loop over property names.
 */
export type ClaimPath = readonly string[];

export function compileClaimPath(dotted: string): ClaimPath {
  return Object.freeze(dotted.split('.'));
}

export function readClaim(claims: Readonly<Record<string, unknown>>, path: ClaimPath): unknown {
  let value: unknown = claims;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
