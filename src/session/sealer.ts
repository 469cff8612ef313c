/**
 * Sealing for everything sign-in keeps in a browser or in Redis: JWE compact serialisation,
 * `alg: dir` + `enc: A256GCM` (RFC 7516, RFC 7518 §4.5, §5.3) with jose — encrypted and
 * authenticated, so a cookie can neither be read nor altered.
 *
 * `sessions.secrets` is a rotation list: the first secret seals, every one opens. Each secret is
 * turned into its own 256-bit key by HKDF-SHA256 (RFC 5869) — a passphrase is not a key — and
 * sealed values name their key in the protected `kid`, so opening picks the key at once instead of
 * trying each. The purpose ('session', 'flow', 'csrf') is part of the key derivation: a value
 * sealed for one purpose never opens as another.
 */
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';

export type SealPurpose = 'session' | 'flow';

interface SealKey {
  readonly kid: string;
  readonly key: Uint8Array;
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();
/** A JWE compact value is five base64url parts; anything else is refused before jose sees it. */
const COMPACT_JWE = /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const KID = /^"kid":"([A-Za-z0-9_-]{1,16})"$/;

function deriveKey(secret: string, purpose: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, 'portcullis-sign-in', `portcullis ${purpose} A256GCM`, 32));
}

function kidOf(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 12);
}

export class Sealer {
  readonly #seal: Readonly<Record<SealPurpose, SealKey>>;
  readonly #open: Readonly<Record<SealPurpose, ReadonlyMap<string, Uint8Array>>>;
  /** HMAC keys of the sign-out CSRF token, current first. */
  readonly #macKeys: readonly Buffer[];

  /** `secrets`: current first, then the previous ones (sessions.secrets). */
  constructor(secrets: readonly string[]) {
    const keysFor = (purpose: SealPurpose): SealKey[] => secrets.map((s) => {
      const key = deriveKey(s, purpose);
      return { kid: kidOf(key), key };
    });
    const session = keysFor('session');
    const flow = keysFor('flow');
    this.#seal = Object.freeze({ session: session[0]!, flow: flow[0]! });
    this.#open = Object.freeze({
      session: new Map(session.map((k) => [k.kid, k.key])),
      flow: new Map(flow.map((k) => [k.kid, k.key])),
    });
    this.#macKeys = secrets.map((s) => Buffer.from(deriveKey(s, 'csrf')));
  }

  async seal(purpose: SealPurpose, value: unknown): Promise<string> {
    const k = this.#seal[purpose];
    return new CompactEncrypt(ENCODER.encode(JSON.stringify(value)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: k.kid })
      .encrypt(k.key);
  }

  /** The value sealed for `purpose` under any configured secret; null for anything else. */
  async open(purpose: SealPurpose, sealed: string, maxBytes: number): Promise<unknown> {
    if (sealed.length > maxBytes || !COMPACT_JWE.test(sealed)) return null;
    const key = this.#keyFor(purpose, sealed);
    if (key === null) return null;
    try {
      const { plaintext } = await compactDecrypt(sealed, key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
      return JSON.parse(DECODER.decode(plaintext)) as unknown;
    } catch {
      // Tampered, truncated or sealed under a secret no longer configured: no session, nothing to say.
      return null;
    }
  }

  /** The sign-out CSRF token of a session id: an HMAC, so nothing needs storing. */
  csrfToken(sessionId: string): string {
    return createHmac('sha256', this.#macKeys[0]!).update(sessionId).digest('base64url');
  }

  csrfTokenValid(sessionId: string, token: string): boolean {
    const given = Buffer.from(token);
    for (const key of this.#macKeys) {
      const expected = Buffer.from(createHmac('sha256', key).update(sessionId).digest('base64url'));
      if (expected.length === given.length && timingSafeEqual(expected, given)) return true;
    }
    return false;
  }

  /** The key the protected header's kid names, read without a JSON parse of untrusted input. */
  #keyFor(purpose: SealPurpose, sealed: string): Uint8Array | null {
    const header = Buffer.from(sealed.slice(0, sealed.indexOf('.')), 'base64url').toString('utf8');
    for (const part of header.slice(1, -1).split(',')) {
      const m = KID.exec(part);
      if (m !== null) return this.#open[purpose].get(m[1]!) ?? null;
    }
    return null;
  }
}
