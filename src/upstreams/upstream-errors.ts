import { GatewayError, gatewayError } from '../core/errors.js';

const TLS_REASONS: Record<string, string> = {
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname mismatch',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown certificate authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown certificate authority',
  CERT_HAS_EXPIRED: 'certificate expired',
  CERT_NOT_YET_VALID: 'certificate not yet valid',
  ERR_TLS_HANDSHAKE_TIMEOUT: 'handshake timeout',
  ERR_SSL_WRONG_VERSION_NUMBER: 'upstream does not speak TLS',
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
  const tlsReason = TLS_REASONS[code] ?? (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT') ? code : undefined);
  if (tlsReason) return gatewayError('UPSTREAM_TLS_ERROR', `TLS to the upstream failed: ${tlsReason}`, undefined, err);
  return gatewayError('UPSTREAM_ERROR', undefined, undefined, err);
}
