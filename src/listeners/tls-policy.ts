import type { SecureContextOptions, TlsOptions } from 'node:tls';

/**
 * The strict default TLS policy for every listener: TLS 1.2 and 1.3 only; TLS 1.2 suites limited to
 * ECDHE key exchange with AEAD ciphers (no CBC, no static RSA); the server's cipher order; curves
 * X25519, P-256 and P-384. (Node's own default still offers CBC and static-RSA suites.)
 */
export const STRICT_TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** TLS 1.3 suites are configured separately by OpenSSL; these are all AEAD. */
export const TLS13_CIPHERSUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'].join(':');

export function strictTlsOptions(): Pick<TlsOptions & SecureContextOptions, 'minVersion' | 'maxVersion' | 'ciphers' | 'honorCipherOrder' | 'ecdhCurve'> {
  return {
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: `${TLS13_CIPHERSUITES}:${STRICT_TLS12_CIPHERS}`,
    honorCipherOrder: true,
    ecdhCurve: 'X25519:P-256:P-384',
  };
}
