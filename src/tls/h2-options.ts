/**
 * Node's own HTTP/2 guards for the HTTPS listener (issue 21, docs/http2.md), every one set
 * explicitly so the values are ours and documented, not whatever a Node release defaults to.
 * The budgets Node has no knob for are counted in h2-session-guard.ts.
 */
import type { SecureServerOptions } from 'node:http2';
import type { LimitsConfig } from '../config/types.js';

/** Settings entries one SETTINGS frame may carry (Node's default, 32; RFC 9113 defines 6). */
const MAX_SETTINGS = 32;
/**
 * Header fields one block may carry. The block's size is bounded by maxHeaderBytes too; the
 * count bounds the per-field overhead of many tiny fields (Node's default is 128).
 */
const MAX_HEADER_LIST_PAIRS = 256;
/** Frames nghttp2 finds invalid before the session is destroyed (Node's default is 1000). */
const MAX_SESSION_INVALID_FRAMES = 100;
/** Streams refused (over maxConcurrentStreams, bad headers…) before the session is destroyed (Node's default). */
const MAX_SESSION_REJECTED_STREAMS = 100;
/**
 * nghttp2's own limit on RST_STREAM frames received (burst, then per second): a backstop above
 * maxResetsPerWindow, which counts only resets before a response and answers ENHANCE_YOUR_CALM.
 */
const STREAM_RESET_BURST = 1000;
const STREAM_RESET_RATE = 33;

export function http2ServerOptions(limits: LimitsConfig): SecureServerOptions {
  const l = limits.http2;
  return {
    settings: {
      // RFC 9113 §6.5.2 SETTINGS_MAX_CONCURRENT_STREAMS: nghttp2's default is unlimited.
      maxConcurrentStreams: l.maxConcurrentStreams,
      maxHeaderListSize: limits.maxHeaderBytes,
      enablePush: false,
    },
    // Streams we may open towards the peer as if it had said so; with push off, none are.
    peerMaxConcurrentStreams: l.maxConcurrentStreams,
    maxSessionMemory: l.maxSessionMemoryMb,
    maxSettings: MAX_SETTINGS,
    maxHeaderListPairs: MAX_HEADER_LIST_PAIRS,
    maxSessionInvalidFrames: MAX_SESSION_INVALID_FRAMES,
    maxSessionRejectedStreams: MAX_SESSION_REJECTED_STREAMS,
    // A TLS connection whose ALPN named no protocol we speak gets no longer than a request head.
    unknownProtocolTimeout: limits.headersTimeoutMs,
    // Node ≥ 20.12 (engines: ≥ 20.18); not yet in @types/node 20's SecureServerOptions.
    ...{ streamResetBurst: STREAM_RESET_BURST, streamResetRate: STREAM_RESET_RATE },
  };
}
