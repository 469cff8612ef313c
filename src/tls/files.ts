/**
 * Reading and verifying PEM files for TLS (issue 7). Every read is asynchronous: these run at
 * startup, on SIGHUP and whenever a watched file changes (STYLE §3: no sync I/O after startup).
 *
 * A certificate/key pair is accepted only when the certificate parses, the key parses, and the
 * key's public half is the certificate's (X509Certificate.checkPrivateKey). A pair that fails
 * any of these is refused as a whole, so a rotation caught half-written (new certificate, old
 * key) never replaces a working pair.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export class TlsFileError extends Error {
  readonly code = 'PORTCULLIS_ERR_TLS_FILES';
}

/**
 * A TlsFileError restated under the config key whose files it is about (`listeners.https: …`),
 * as config errors name their path (PRODUCT §3); any other error is returned as it is.
 */
export function underConfigKey(key: string, err: unknown): unknown {
  return err instanceof TlsFileError ? new TlsFileError(`${key}: ${err.message}`, { cause: err }) : err;
}

/** The largest PEM file read: a long chain or a big CA bundle is far below this. */
const MAX_PEM_BYTES = 1024 * 1024;

export interface PairFiles {
  readonly cert: string;
  readonly key: string;
}

/** A verified pair: the PEM bytes as read, and what logs and metrics say about it. */
export interface LoadedPair {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly subject: string;
  readonly fingerprint256: string;
  readonly notAfter: Date;
  readonly notBefore: Date;
}

export async function readPem(path: string, what: string): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw new TlsFileError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  if (data.length > MAX_PEM_BYTES) throw new TlsFileError(`${what} ${path} is larger than ${MAX_PEM_BYTES} bytes`);
  if (!data.includes('-----BEGIN ')) throw new TlsFileError(`${what} ${path} holds no PEM block`);
  return data;
}

export async function readPair(files: PairFiles): Promise<{ cert: Buffer; key: Buffer }> {
  const [cert, key] = await Promise.all([readPem(files.cert, 'certificate'), readPem(files.key, 'private key')]);
  return { cert, key };
}

/** Verifies a pair read by readPair; throws TlsFileError saying what is wrong. */
export function verifyPair(files: PairFiles, cert: Buffer, key: Buffer): LoadedPair {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new TlsFileError(`certificate ${files.cert} does not parse: ${(err as Error).message}`, { cause: err });
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new TlsFileError(`private key ${files.key} does not parse (encrypted keys are not supported): ${(err as Error).message}`, { cause: err });
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new TlsFileError(`private key ${files.key} does not belong to certificate ${files.cert}`);
  }
  return {
    cert,
    key,
    subject: x509.subject.split('\n').reverse().join(','),
    fingerprint256: x509.fingerprint256,
    notAfter: new Date(x509.validTo),
    notBefore: new Date(x509.validFrom),
  };
}

/** A CA bundle: at least one certificate that parses (the first; OpenSSL reads the rest). */
export async function readCaBundle(path: string): Promise<Buffer> {
  const pem = await readPem(path, 'CA bundle');
  try {
    new X509Certificate(pem);
  } catch (err) {
    throw new TlsFileError(`CA bundle ${path} does not parse: ${(err as Error).message}`, { cause: err });
  }
  return pem;
}

export async function loadPair(files: PairFiles): Promise<LoadedPair> {
  const { cert, key } = await readPair(files);
  return verifyPair(files, cert, key);
}
