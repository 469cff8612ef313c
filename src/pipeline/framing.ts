/**
 * Request framing both shapes refuse before anything reads the request (RFC 9112 §6.1, the
 * request-smuggling class): the only transfer coding accepted is a lone `chunked`. Node's parser
 * frames `gzip, chunked`, `identity, chunked` or a second field line `Transfer-Encoding: chunked`
 * after `gzip` as plain chunked, and answers a non-chunked final coding (`identity`, `gzip`) with
 * a parser error only after the request was handed over; a hop before or after us could frame
 * any of these differently, so their bytes are never forwarded, nor answered as a decision.
 */
import type { IncomingMessage } from 'node:http';

/** One field value that is exactly the `chunked` coding; names are case-insensitive (RFC 9112 §7). */
const CHUNKED_ONLY = /^[ \t]*chunked[ \t]*$/i;

/**
 * Whether the request's body framing is unambiguous: no Transfer-Encoding, or HTTP/1.1 with one
 * `Transfer-Encoding: chunked` field line and no Content-Length. An HTTP/1.0 request with
 * Transfer-Encoding has faulty framing (RFC 9112 §6.1). HTTP/2 frames bodies itself and its
 * parser refuses the field (RFC 9113 §8.2.2).
 */
function hasUnambiguousFraming(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] === undefined) return true; // the hot path: one lookup
  if (req.httpVersion !== '1.1' || req.headers['content-length'] !== undefined) return false;
  // The raw lines, not the joined value: Node's joining rules for repeated fields are not ours to rely on.
  const raw = req.rawHeaders;
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 17 || name.toLowerCase() !== 'transfer-encoding') continue;
    if (++seen > 1 || !CHUNKED_ONLY.test(raw[i + 1]!)) return false;
  }
  return seen === 1;
}

const kRefused = Symbol('portcullis.framingRefused');

/**
 * Whether `req` is refused for its framing (not hasUnambiguousFraming), and if so marks its
 * connection. Node parses a whole packet at once, so bytes a front hop took for that request's
 * body (`GET /smuggled …` after the last chunk) are handed over as the next request before our
 * 400 is even written: the shapes serve none of them (followsFramingRefusal).
 */
export function refusedForFraming(req: IncomingMessage): boolean {
  if (hasUnambiguousFraming(req)) return false;
  (req.socket as unknown as Record<symbol, boolean>)[kRefused] = true;
  return true;
}

/** Whether `req` came after a framing refusal on its connection: it gets no answer (the connection is closing). */
export function followsFramingRefusal(req: IncomingMessage): boolean {
  return (req.socket as unknown as Record<symbol, boolean | undefined>)[kRefused] === true;
}
