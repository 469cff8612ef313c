/**
 * Body inspection: the bytes the stage read (at most inspectBodyBytes of them) turned into
 * argument values by media type (content-type.ts). A body larger than the bound is inspected
 * up to it and the rest streams uninspected — ModSecurity's ProcessPartial; a JSON or form
 * body cut at the bound is still read field by field, the cut field included.
 */
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { RuleSet, Scan } from './engine.js';
import { S_BODY } from './exclusions.js';
import { T_FORM, T_TEXT, T_VALUE } from './rule.js';
import { inspectArgs } from './args.js';
import { scanJson } from './json-scan.js';
import { boundaryOf, scanMultipart } from './multipart.js';
import { bodyKind, type BodyKind } from './content-type.js';

export function inspectBody(rules: RuleSet, scan: Scan, kind: BodyKind, contentType: string | undefined, bytes: Buffer): void {
  const text = bytes.toString('utf8');
  switch (kind) {
    case 'json':
      scanJson(rules, scan, text);
      return;
    case 'form':
      inspectArgs(rules, scan, text, T_VALUE | T_FORM, S_BODY, 0);
      return;
    case 'multipart': {
      const boundary = contentType === undefined ? null : boundaryOf(contentType);
      // No boundary, or none found: whatever the upstream makes of it, read it all as text.
      if (boundary === null || !scanMultipart(rules, scan, text, boundary)) rules.inspect(scan, T_TEXT, text, S_BODY, '');
      return;
    }
    default:
      rules.inspect(scan, T_TEXT, text, S_BODY, '');
  }
}

export { bodyKind };

/** Content-Encodings the WAF can read through; any other encoding leaves the body uninspected. */
export function canDecode(encoding: string | undefined): boolean {
  if (encoding === undefined) return true;
  const e = encoding.trim().toLowerCase();
  return e === '' || e === 'identity' || e === 'gzip' || e === 'x-gzip' || e === 'deflate' || e === 'br';
}

export function isEncoded(encoding: string | undefined): boolean {
  if (encoding === undefined) return false;
  const e = encoding.trim().toLowerCase();
  return e !== '' && e !== 'identity';
}

/**
 * Decompresses (a prefix of) a compressed body up to `limit` bytes of output, so a compressed
 * payload is inspected like a plain one and a decompression bomb costs at most `limit`. null
 * when the data is not valid for its encoding.
 */
export function inflatePrefix(bytes: Buffer, encoding: string, limit: number): Promise<Buffer | null> {
  const e = encoding.trim().toLowerCase();
  const z: Transform = e === 'br' ? createBrotliDecompress() : e === 'deflate' ? createInflate() : createGunzip();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      z.removeAllListeners('data');
      z.destroy();
      resolve(ok || total > 0 ? Buffer.concat(chunks).subarray(0, limit) : null);
    };
    z.on('data', (c: Buffer) => {
      chunks.push(c);
      total += c.length;
      if (total >= limit) finish(true);
    });
    z.on('end', () => finish(true));
    z.on('error', () => finish(false));
    z.end(bytes);
  });
}
