/**
 * Where a provider's JWKS comes from: an http(s) URL, OpenID discovery, or a
 * local file. Every fetch is bounded in time (a deadline covering connect,
 * headers and body) and in size, never follows redirects, and reports how
 * long its answer may be cached (RFC 9111 §5.2.2.1 max-age, clamped).
 */
import { readFile, stat } from 'node:fs/promises';
import { Agent, request } from 'undici';
import type { ChildSpan } from '../observe/tracing/tracing.js';
import { traced } from './traced.js';

export interface FetchLimits {
  /** Deadline for one fetch, connect to last body byte, in ms. */
  readonly timeoutMs: number;
  /** Largest response or file accepted, in bytes. */
  readonly maxBytes: number;
}

export const DEFAULT_FETCH_LIMITS: FetchLimits = Object.freeze({ timeoutMs: 5_000, maxBytes: 1024 * 1024 });

/** Cache lifetime bounds: an IdP's max-age is believed only within these (seconds). */
export const MIN_MAX_AGE_SEC = 60;
export const MAX_MAX_AGE_SEC = 24 * 60 * 60;
/** Without a usable Cache-Control, keys are refetched after this long (seconds). */
export const DEFAULT_MAX_AGE_SEC = 600;
/** A JWKS file is re-read (and re-imported only if it changed) this often (seconds). */
export const FILE_POLL_SEC = 60;

export interface FetchedJwks {
  readonly doc: unknown;
  /** How long the keys may be used before a background refresh, in seconds (already clamped). */
  readonly maxAgeSec: number;
}

export interface JwksFetcher {
  /** For logs: the URL or file read. */
  readonly location: string;
  /** `span`: the fetch's span when tracing is on; a discovery step hangs its own under it. */
  fetch(signal: AbortSignal, span?: ChildSpan | null): Promise<FetchedJwks>;
  close(): Promise<void>;
}

const MAX_AGE = /(?:^|,)\s*max-age\s*=\s*"?(\d{1,10})"?\s*(?:,|$)/i;
const NO_STORE = /(?:^|,)\s*(?:no-store|no-cache)\s*(?:,|$)/i;
const HTTP_URL = /^https?:\/\//i;

/** max-age from a Cache-Control value, clamped to [MIN_MAX_AGE_SEC, MAX_MAX_AGE_SEC]. */
export function cacheLifetimeSec(cacheControl: string | undefined): number {
  if (cacheControl === undefined) return DEFAULT_MAX_AGE_SEC;
  // no-store/no-cache would mean a fetch per token: the lower bound protects the IdP (and us).
  if (NO_STORE.test(cacheControl)) return MIN_MAX_AGE_SEC;
  const m = MAX_AGE.exec(cacheControl);
  if (m === null) return DEFAULT_MAX_AGE_SEC;
  return Math.min(MAX_MAX_AGE_SEC, Math.max(MIN_MAX_AGE_SEC, Number(m[1])));
}

export class FetchError extends Error {
  readonly code = 'PORTCULLIS_ERR_JWKS_FETCH';
}

/** Drops a response body unread; destroying it emits an error that nobody else listens for. */
export function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on('error', ignore);
  body.destroy();
}

function ignore(): void {
  // the response is being thrown away; its abort error carries no information
}

/** A response body parsed as JSON, refused past `maxBytes` (declared or counted). */
export async function readJsonBody(
  res: { headers: Record<string, string | string[] | undefined>; body: NodeJS.ReadableStream & { destroy(): void } },
  url: string, maxBytes: number,
): Promise<unknown> {
  const declared = Number(res.headers['content-length']);
  if (declared > maxBytes) {
    discard(res.body);
    throw new FetchError(`${url} is larger than ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      discard(res.body);
      throw new FetchError(`${url} is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new FetchError(`${url} is not valid JSON`);
  }
}

/** GET a JSON document within the limits. */
export async function getJson(
  agent: Agent, url: string, signal: AbortSignal, limits: FetchLimits,
): Promise<{ doc: unknown; cacheControl: string | undefined }> {
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(limits.timeoutMs)]);
  const res = await request(url, {
    method: 'GET',
    dispatcher: agent,
    signal: deadline,
    headers: { accept: 'application/json', 'user-agent': 'portcullis' },
    headersTimeout: limits.timeoutMs,
    bodyTimeout: limits.timeoutMs,
  });
  if (res.statusCode !== 200) {
    discard(res.body);
    // No redirects: a JWKS location that moves is a config change, not something to follow.
    throw new FetchError(`${url} answered HTTP ${res.statusCode}`);
  }
  const doc = await readJsonBody(res, url, limits.maxBytes);
  const cc = res.headers['cache-control'];
  return { doc, cacheControl: Array.isArray(cc) ? cc.join(',') : cc };
}

export function newAgent(limits: FetchLimits): Agent {
  // Fetches are minutes apart: no point keeping idle sockets to the IdP open for long.
  return new Agent({ connect: { timeout: limits.timeoutMs }, keepAliveTimeout: 1_000, connections: 2 });
}

/** `jwksUri`: the URL is configured. */
export class UriJwksFetcher implements JwksFetcher {
  readonly location: string;
  readonly #limits: FetchLimits;
  readonly #agent: Agent;

  constructor(uri: string, limits: FetchLimits = DEFAULT_FETCH_LIMITS) {
    this.location = uri;
    this.#limits = limits;
    this.#agent = newAgent(limits);
  }

  async fetch(signal: AbortSignal): Promise<FetchedJwks> {
    const { doc, cacheControl } = await getJson(this.#agent, this.location, signal, this.#limits);
    return { doc, maxAgeSec: cacheLifetimeSec(cacheControl) };
  }

  close(): Promise<void> {
    return this.#agent.destroy();
  }
}

/**
 * `discovery: true` (OpenID Connect Discovery 1.0 §4): `jwks_uri` comes from
 * {issuer}/.well-known/openid-configuration, whose `issuer` must equal ours exactly (§4.3) —
 * otherwise a document served for another issuer could hand us its keys.
 */
export class DiscoveryJwksFetcher implements JwksFetcher {
  readonly location: string;
  readonly #issuer: string;
  readonly #limits: FetchLimits;
  readonly #agent: Agent;
  /** Remembered between refreshes; forgotten after a failure so the next attempt rediscovers. */
  #jwksUri: string | null = null;

  constructor(issuer: string, limits: FetchLimits = DEFAULT_FETCH_LIMITS) {
    this.#issuer = issuer;
    this.location = discoveryLocation(issuer);
    this.#limits = limits;
    this.#agent = newAgent(limits);
  }

  async fetch(signal: AbortSignal, span: ChildSpan | null = null): Promise<FetchedJwks> {
    try {
      this.#jwksUri ??= await traced(span === null ? null : span.child('oidc discovery', { 'portcullis.discovery.for': 'jwks', 'url.full': this.location }), this.#discover(signal));
      const { doc, cacheControl } = await getJson(this.#agent, this.#jwksUri, signal, this.#limits);
      return { doc, maxAgeSec: cacheLifetimeSec(cacheControl) };
    } catch (err) {
      this.#jwksUri = null;
      throw err;
    }
  }

  #discover(signal: AbortSignal): Promise<string> {
    return discoverUrl(this.#agent, this.#issuer, 'jwks_uri', signal, this.#limits);
  }

  close(): Promise<void> {
    return this.#agent.destroy();
  }
}

/** {issuer}/.well-known/openid-configuration (OIDC Discovery 1.0 §4.1), without doubling a trailing slash. */
export function discoveryLocation(issuer: string): string {
  return issuer.replace(/\/+$/, '') + '/.well-known/openid-configuration';
}

/**
 * One http(s) URL member of the issuer's discovery document (`jwks_uri`, `introspection_endpoint`
 * of RFC 8414 §2), after checking that the document's `issuer` equals ours exactly (§4.3).
 */
export async function discoverUrl(agent: Agent, issuer: string, member: string, signal: AbortSignal, limits: FetchLimits): Promise<string> {
  const location = discoveryLocation(issuer);
  const { doc } = await getJson(agent, location, signal, limits);
  const meta = doc !== null && typeof doc === 'object' ? (doc as Record<string, unknown>) : {};
  if (meta['issuer'] !== issuer) throw new FetchError(`${location}: "issuer" does not equal the configured issuer`);
  const uri = meta[member];
  if (typeof uri !== 'string' || !HTTP_URL.test(uri) || !URL.canParse(uri)) {
    throw new FetchError(`${location}: "${member}" is missing or not an http(s) URL`);
  }
  return uri;
}

/** `jwksFile`: read asynchronously (STYLE §3: no sync I/O after startup), size-checked first. */
export class FileJwksFetcher implements JwksFetcher {
  readonly location: string;
  readonly #limits: FetchLimits;

  constructor(path: string, limits: FetchLimits = DEFAULT_FETCH_LIMITS) {
    this.location = path;
    this.#limits = limits;
  }

  async fetch(signal: AbortSignal): Promise<FetchedJwks> {
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(this.#limits.timeoutMs)]);
    const info = await stat(this.location);
    if (info.size > this.#limits.maxBytes) throw new FetchError(`${this.location} is larger than ${this.#limits.maxBytes} bytes`);
    const text = await readFile(this.location, { encoding: 'utf8', signal: deadline });
    try {
      return { doc: JSON.parse(text) as unknown, maxAgeSec: FILE_POLL_SEC };
    } catch {
      throw new FetchError(`${this.location} is not valid JSON`);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
