import { X509Certificate } from 'node:crypto';

const CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM blocks of every certificate in a bundle, in order. */
export function splitPemCertificates(pem: string): string[] {
  return pem.match(CERT_RE) ?? [];
}

/**
 * Parses every certificate of a PEM bundle. Returns undefined when the bundle holds no certificate
 * or any block does not parse.
 */
export function parseCertificateBundle(pem: string): X509Certificate[] | undefined {
  const blocks = splitPemCertificates(pem);
  if (blocks.length === 0) return undefined;
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch {
    return undefined;
  }
}
