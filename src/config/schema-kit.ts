/**
 * The patterns and small builders the config schema fragments share (config/schema.ts and each
 * stage's schema.ts): one header-name rule, one name rule, one bounded integer with its
 * "Default: N." suffix, so every key of the generated reference reads alike.
 */

/** RFC 7230 §3.2.6 `token`: the characters allowed in a header name (and an RFC 6265 cookie name). */
export const TOKEN_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
export const NAME_MESSAGE = 'must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit';
/** Dotted path into the JWT payload (`realm_access.roles`): no empty segments, no whitespace. */
export const CLAIM_PATH_PATTERN = '^[^.\\s]+(\\.[^.\\s]+)*$';
export const CLAIM_PATH_MESSAGE = 'must be a claim name or dotted claim path such as realm_access.roles';

export const headerName = (description: string) => ({
  type: 'string',
  description,
  pattern: TOKEN_PATTERN,
  errorMessage: 'must be a valid HTTP header name (RFC 7230 token characters)',
});

export const nonEmptyString = (description: string) => ({ type: 'string', description, minLength: 1 });

export const stringList = (description: string, item: string, maxItems: number) => ({
  type: 'array',
  description,
  items: nonEmptyString(item),
  uniqueItems: true,
  maxItems,
});

export const cidrList = (description: string) => ({
  type: 'array',
  description: `${description} Default: [].`,
  items: nonEmptyString('An IPv4 or IPv6 address (a single host) or a CIDR block such as 10.0.0.0/8 or fd00::/8.'),
  maxItems: 4096,
  default: [],
});

export const integer = (description: string, minimum: number, maximum: number, dflt?: number) => ({
  type: 'integer',
  description: dflt === undefined ? description : `${description} Default: ${dflt}.`,
  minimum,
  maximum,
  ...(dflt === undefined ? {} : { default: dflt }),
});

export const pathString = (description: string) => ({
  type: 'string',
  description,
  pattern: '^/',
  maxLength: 2048,
  errorMessage: 'must start with "/"',
});
