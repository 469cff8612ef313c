/**
 * The body bytes a WAF stage inspects: at most `limit` bytes read from the request, with its
 * Content-Encoding undone (a decompression bomb costs at most `limit`). Shared by the built-in
 * stage (stage.ts) and the CRS stage (crs/stage.ts), so both refuse the same undecodable bodies.
 */
import type { BodyAccess } from '../contract/types.js';
import { decodePrefix, type Coding } from './body.js';

export interface InspectedBody {
  /** At most `limit` bytes, decoded. */
  readonly bytes: Buffer;
  /** The data was not valid for its codings (what did decode is in `bytes`). */
  readonly corrupt: boolean;
}

/** 'failed': the client went away. `codings` from contentCodings() (body.ts), never null here. */
export async function readInspectedBody(body: BodyAccess, codings: readonly Coding[], limit: number): Promise<InspectedBody | 'failed'> {
  const prefix = await body.readPrefix(limit);
  if (prefix.failed) return 'failed';
  let bytes = prefix.bytes;
  let corrupt = false;
  if (bytes.length > 0 && codings.length > 0) {
    const decoded = await decodePrefix(bytes, codings, limit, prefix.complete);
    bytes = decoded.bytes;
    corrupt = decoded.corrupt;
  }
  return { bytes: bytes.length > limit ? bytes.subarray(0, limit) : bytes, corrupt };
}
