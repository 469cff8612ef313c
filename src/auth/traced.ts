/**
 * A span around one awaited fetch (JWKS, OIDC discovery): ended when the work settles, failed
 * with the error's message when it rejects (ours: FetchError names the URL and the HTTP status,
 * never a body). `span` null (tracing off, or nothing to hang it on): the work as it is.
 */
import type { ChildSpan } from '../observe/tracing/tracing.js';

export async function traced<T>(span: ChildSpan | null, work: Promise<T>): Promise<T> {
  if (span === null) return work;
  try {
    return await work;
  } catch (err) {
    span.fail(err instanceof Error ? err.message : String(err));
    throw err;
  } finally {
    span.end();
  }
}
