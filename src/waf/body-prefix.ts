/**
 * The body bytes a WAF stage inspects: at most `limit` bytes read from the request, decompressed
 * when the Content-Encoding says so (a decompression bomb costs at most `limit`). Shared by the
 * built-in stage (stage.ts) and the CRS stage (crs/stage.ts).
 */
import type { BodyAccess, RequestContext } from '../pipeline/types.js';
import { inflatePrefix, isEncoded } from './body.js';

/** 'failed': the client went away; null: nothing to inspect (empty, or not valid for its encoding). */
export async function readInspectedBody(ctx: RequestContext, body: BodyAccess, limit: number): Promise<Buffer | null | 'failed'> {
  const prefix = await body.readPrefix(limit);
  if (prefix.failed) return 'failed';
  let bytes: Buffer | null = prefix.bytes;
  const encoding = ctx.headers['content-encoding'];
  if (bytes.length > 0 && isEncoded(encoding)) bytes = await inflatePrefix(bytes, encoding!, limit);
  if (bytes === null || bytes.length === 0) return null;
  return bytes.length > limit ? bytes.subarray(0, limit) : bytes;
}
