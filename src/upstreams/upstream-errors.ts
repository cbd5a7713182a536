import { GatewayError, gatewayError } from '../core/errors.js';
import { UPSTREAM_TLS_CODES } from './upstream-tls.js';

/**
 * Reasons for TLS failures, by error code: Node's certificate-verification codes (OpenSSL names),
 * OpenSSL alerts received from the upstream (`ERR_SSL_…_ALERT_…`), and the connector's own codes
 * (upstream-tls.ts). Messages say what failed, never with key material.
 */
const TLS_REASONS: Record<string, string> = {
  // Our side refused the upstream's certificate.
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname mismatch',
  [UPSTREAM_TLS_CODES.PIN_MISMATCH]: 'certificate pin mismatch',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown certificate authority (self-signed certificate in chain)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown certificate authority',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown certificate authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown certificate authority',
  CERT_UNTRUSTED: 'certificate not trusted',
  CERT_REJECTED: 'certificate rejected',
  INVALID_CA: 'invalid CA certificate in chain',
  INVALID_PURPOSE: 'certificate not valid for TLS server use',
  CERT_SIGNATURE_FAILURE: 'invalid certificate signature',
  CERT_HAS_EXPIRED: 'certificate expired',
  CERT_NOT_YET_VALID: 'certificate not yet valid',
  CERT_REVOKED: 'certificate revoked',
  ERR_TLS_HANDSHAKE_TIMEOUT: 'handshake timeout',
  ERR_SSL_WRONG_VERSION_NUMBER: 'upstream does not speak TLS',
  // The upstream refused us (alerts).
  [UPSTREAM_TLS_CODES.CLIENT_CERT_REQUIRED]: 'upstream requires a client certificate',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'upstream requires a client certificate',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'upstream rejected the client certificate',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'upstream rejected the client certificate',
  ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: 'upstream rejected the client certificate (unsupported)',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'upstream rejected the client certificate (expired)',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED: 'upstream rejected the client certificate (revoked)',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'upstream does not trust the client certificate (unknown CA)',
  ERR_SSL_TLSV1_ALERT_ACCESS_DENIED: 'upstream denied access',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'handshake failure (no common TLS parameters, or a client certificate is required)',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'no common TLS version',
  ERR_SSL_TLSV1_ALERT_UNRECOGNIZED_NAME: 'upstream does not serve this server name (SNI)',
  ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR: 'upstream TLS internal error',
};

/**
 * Maps an upstream dispatch failure to a registry error: timeouts → 504, TLS → 502 upstream_tls_error
 * with a reason, refused/unreachable → 502 upstream_unavailable, anything else → 502 upstream_error.
 * GatewayErrors (for example a body limit hit while streaming) pass through unchanged.
 */
export function mapUpstreamError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return gatewayError('UPSTREAM_TIMEOUT', 'Upstream connect timed out', undefined, err);
    case 'UND_ERR_HEADERS_TIMEOUT':
      return gatewayError('UPSTREAM_TIMEOUT', 'Upstream did not send response headers in time', undefined, err);
    case 'UND_ERR_BODY_TIMEOUT':
      return gatewayError('UPSTREAM_TIMEOUT', 'Upstream response body stalled', undefined, err);
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EAI_AGAIN':
      return gatewayError('UPSTREAM_UNAVAILABLE', `Upstream is unavailable (${code})`, undefined, err);
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return gatewayError('BAD_REQUEST', 'Request body length does not match Content-Length', undefined, err);
  }
  const tlsReason = tlsFailureReason(code) ?? tlsFailureReason(e.cause?.code ?? '');
  if (tlsReason) return gatewayError('UPSTREAM_TLS_ERROR', `TLS to the upstream failed: ${tlsReason}`, undefined, err);
  return gatewayError('UPSTREAM_ERROR', undefined, undefined, err);
}

/** The reason for a TLS failure code; the code itself for an unlisted TLS or certificate code; undefined otherwise. */
function tlsFailureReason(code: string): string | undefined {
  return TLS_REASONS[code] ?? (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT') ? code : undefined);
}
