/**
 * Apply-time checks of the `upstream.tls` PEM material and pins. Each returns a problem message (no
 * field path, no key material) or `undefined` when the value is usable. Used by the service schema
 * and, for a stored client key that is kept by sending "<redacted>", by secret sealing.
 */

import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { keyMatchesCertificate } from '../../pki/keys.js';
import { splitPemCertificates } from '../../pki/pem.js';

const PRIVATE_KEY_RE = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/** An SPKI pin: base64 of a SHA-256 hash, 44 characters ending in "=". */
const SPKI_PIN_RE = /^[A-Za-z0-9+/]{43}=$/;

/** The pin of a public key: base64 SHA-256 of its SubjectPublicKeyInfo DER (as HPKP and Envoy's `verify_certificate_spki`). */
export function spkiPinOf(spkiDer: Uint8Array): string {
  return createHash('sha256').update(spkiDer).digest('base64');
}

/** The pin of a certificate's public key. */
export function certificateSpkiPin(cert: X509Certificate): string {
  return spkiPinOf(cert.publicKey.export({ type: 'spki', format: 'der' }));
}

/** Problem with a pin, if any: it must be canonical base64 of exactly 32 bytes. */
export function spkiPinProblem(pin: string): string | undefined {
  if (SPKI_PIN_RE.test(pin) && Buffer.from(pin, 'base64').toString('base64') === pin) return undefined;
  return 'must be the base64 SHA-256 hash of a SubjectPublicKeyInfo: 44 characters ending in "="';
}

/**
 * Problem with a PEM bundle of certificates, if any: at least one certificate, every one parses, and
 * no private key is mixed in (this field is not secret: it is stored and shown in clear).
 */
export function certificateBundleProblem(pem: string, noun: string): string | undefined {
  if (PRIVATE_KEY_RE.test(pem)) return 'must not contain a private key (it would be stored and shown in clear)';
  const blocks = splitPemCertificates(pem);
  if (blocks.length === 0) return `must be a PEM ${noun} (-----BEGIN CERTIFICATE----- …)`;
  for (let i = 0; i < blocks.length; i++) {
    try {
      new X509Certificate(blocks[i]!);
    } catch {
      return blocks.length === 1 ? 'is not a valid X.509 certificate' : `certificate ${i + 1} of ${blocks.length} is not a valid X.509 certificate`;
    }
  }
  return undefined;
}

/** Problem with a client private key, if any: it must parse as an unencrypted PEM private key. */
export function privateKeyProblem(pem: string): string | undefined {
  if (!PRIVATE_KEY_RE.test(pem)) return 'must be a PEM private key (-----BEGIN PRIVATE KEY----- …)';
  try {
    createPrivateKey({ key: pem, format: 'pem' });
    return undefined;
  } catch {
    return 'is not a valid unencrypted PEM private key';
  }
}

/**
 * Problem with a client key for a certificate chain, if any: the key parses and is the private key of
 * the chain's first (leaf) certificate. A chain that does not parse is reported on its own field, so
 * this returns `undefined` for it.
 */
export function clientKeyProblem(keyPem: string, chainPem: string | undefined): string | undefined {
  const keyProblem = privateKeyProblem(keyPem);
  if (keyProblem) return keyProblem;
  const leaf = chainPem === undefined ? undefined : splitPemCertificates(chainPem)[0];
  if (leaf === undefined) return undefined;
  try {
    return keyMatchesCertificate(keyPem, leaf, 'clientKey') ? undefined : 'does not match the first certificate of clientCert';
  } catch {
    return undefined;
  }
}
