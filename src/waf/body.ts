/**
 * Body inspection: the bytes the stage read (at most inspectBodyBytes of them) turned into
 * argument values by media type (content-type.ts). A body larger than the bound is inspected
 * up to it and the rest streams uninspected — ModSecurity's ProcessPartial; a JSON or form
 * body cut at the bound is still read field by field, the cut field included.
 */
import type { Transform } from 'node:stream';
import { constants, createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
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

/** The content codings the WAF reads through (RFC 9110 §8.4.1); `x-gzip` is gzip. */
export type Coding = 'gzip' | 'deflate' | 'br';

/** Codings stacked on one body that the WAF undoes; a longer list is one it cannot read. */
export const MAX_CODINGS = 3;

/** What a 415 answers in Accept-Encoding (RFC 9110 §15.5.16): the codings the WAF reads. */
export const READABLE_CODINGS = 'gzip, deflate, br';

const IDENTITY: readonly Coding[] = Object.freeze([]);

/**
 * The codings of a Content-Encoding value, in the order they were applied (RFC 9110 §8.4); []
 * when the body is not encoded — no header, or only `identity` tokens (`identity, identity`),
 * which name no transformation; null when a coding is one the WAF cannot undo (unknown, or more
 * than MAX_CODINGS of them).
 */
export function contentCodings(header: string | undefined): readonly Coding[] | null {
  if (header === undefined) return IDENTITY;
  let codings: Coding[] | null = null;
  for (const raw of header.split(',')) {
    const token = raw.trim().toLowerCase();
    if (token === '' || token === 'identity') continue; // empty list elements are allowed (RFC 9110 §5.6.1)
    const coding: Coding | null = token === 'gzip' || token === 'x-gzip' ? 'gzip' : token === 'deflate' ? 'deflate' : token === 'br' ? 'br' : null;
    if (coding === null) return null;
    (codings ??= []).push(coding);
    if (codings.length > MAX_CODINGS) return null;
  }
  return codings ?? IDENTITY;
}

/** A decoded prefix: the bytes (at most the limit asked for), and whether the data was invalid for its codings. */
export interface DecodedPrefix {
  readonly bytes: Buffer;
  readonly corrupt: boolean;
}

/**
 * A decoder for `coding`. For a prefix cut at the bound (`whole` false) the end of the input is
 * a flush, not an end, so what the prefix holds is decoded without an "unexpected end" error;
 * for a whole body a stream that stops short is corrupt.
 */
function decoderFor(coding: Coding, whole: boolean): Transform {
  if (coding === 'br') return createBrotliDecompress(whole ? {} : { finishFlush: constants.BROTLI_OPERATION_FLUSH });
  const options = whole ? {} : { finishFlush: constants.Z_SYNC_FLUSH };
  return coding === 'gzip' ? createGunzip(options) : createInflate(options);
}

/**
 * Decodes (a prefix of) a body through its codings, last applied first undone, up to `limit`
 * bytes of output: a compressed body is inspected like a plain one, and a decompression bomb
 * costs at most `limit` (each decoder is pulled only as far as the next needs). `whole` says
 * whether `bytes` is the whole body. Never rejects: a decoder's error is `corrupt`, with what
 * was decoded before it.
 */
export function decodePrefix(bytes: Buffer, codings: readonly Coding[], limit: number, whole: boolean): Promise<DecodedPrefix> {
  const decoders = codings.map((c) => decoderFor(c, whole)).reverse();
  const last = decoders[decoders.length - 1]!;
  for (let k = 0; k + 1 < decoders.length; k++) decoders[k]!.pipe(decoders[k + 1]!);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const finish = (corrupt: boolean): void => {
      if (done) return;
      done = true;
      last.removeAllListeners('data');
      for (const z of decoders) z.destroy();
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
      resolve({ bytes: all.length > limit ? all.subarray(0, limit) : all, corrupt });
    };
    last.on('data', (c: Buffer) => {
      chunks.push(c);
      total += c.length;
      if (total >= limit) finish(false);
    });
    last.on('end', () => finish(false));
    for (const z of decoders) z.on('error', () => finish(true));
    decoders[0]!.end(bytes);
  });
}
