/**
 * Server-provided nonces (RFC 9449 §9), stateless: a nonce is the second it was minted (6 bytes)
 * and an HMAC-SHA256 of that second under `auth.dpop.nonce.secret` (16 bytes), base64url — 30
 * characters of the §8.1 `1*NQCHAR` alphabet. Any instance with the same secret accepts it until
 * `ttlSec` has passed, with no shared state. One nonce is current at a time and replaced when
 * half its life is gone, so the answers that carry it are built once per nonce, not per request.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const STAMP_BYTES = 6;
const MAC_BYTES = 16;
const NONCE_CHARS = Math.ceil(((STAMP_BYTES + MAC_BYTES) * 4) / 3);

export type NonceCheck = 'fresh' | 'aging' | 'invalid';

export class NonceIssuer {
  readonly #secret: Buffer;
  readonly #ttlSec: number;
  #current = '';
  #currentSec = Number.NEGATIVE_INFINITY;

  constructor(secret: string | undefined, ttlSec: number) {
    this.#secret = secret === undefined ? randomBytes(32) : Buffer.from(secret, 'utf8');
    this.#ttlSec = ttlSec;
  }

  /** The nonce to hand out now; a new one once the current one is half way through its life. */
  current(nowSec: number): string {
    const sec = Math.floor(nowSec);
    if (sec - this.#currentSec >= this.#ttlSec / 2) {
      this.#current = this.#mint(sec);
      this.#currentSec = sec;
    }
    return this.#current;
  }

  /** 'fresh': ours and young; 'aging': ours, past half its life (send the next one); else 'invalid'. */
  check(nonce: unknown, nowSec: number): NonceCheck {
    if (typeof nonce !== 'string' || nonce.length !== NONCE_CHARS) return 'invalid';
    const raw = Buffer.from(nonce, 'base64url');
    // Canonical only: base64url's spare low bits must not make two spellings of one nonce.
    if (raw.length !== STAMP_BYTES + MAC_BYTES || raw.toString('base64url') !== nonce) return 'invalid';
    const sec = raw.readUIntBE(0, STAMP_BYTES);
    const expected = this.#mac(raw.subarray(0, STAMP_BYTES));
    if (!timingSafeEqual(expected, raw.subarray(STAMP_BYTES))) return 'invalid';
    const age = nowSec - sec;
    // A nonce from the future is ours only within a second of clock granularity.
    if (age < -1 || age > this.#ttlSec) return 'invalid';
    return age >= this.#ttlSec / 2 ? 'aging' : 'fresh';
  }

  #mint(sec: number): string {
    const stamp = Buffer.alloc(STAMP_BYTES);
    stamp.writeUIntBE(sec, 0, STAMP_BYTES);
    return Buffer.concat([stamp, this.#mac(stamp)]).toString('base64url');
  }

  #mac(stamp: Buffer): Buffer {
    return createHmac('sha256', this.#secret).update(stamp).digest().subarray(0, MAC_BYTES);
  }
}
