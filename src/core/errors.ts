/**
 * The one registry of coded errors. Every error a client (data plane or admin API) sees is built
 * from an entry here, so codes, statuses and `type` strings stay stable and documented.
 *
 * Wire shape: `{"error":{"type":…,"message":…,"code":…,"details"?:…}}`.
 * Messages must never contain secrets (keys, tokens, private keys, upstream credentials).
 */

export interface ErrorDefinition {
  /** Stable machine code, `PC_ERR_…`. */
  readonly code: string;
  /** HTTP status sent to the client. */
  readonly status: number;
  /** Stable snake_case category sent as `error.type`. */
  readonly type: string;
  /** Default message; a specific message may replace it at the throw site. */
  readonly message: string;
}

function def(code: string, status: number, type: string, message: string): ErrorDefinition {
  return Object.freeze({ code: `PC_ERR_${code}`, status, type, message });
}

/** All error kinds, grouped by where they arise. */
export const Errors = Object.freeze({
  // Data plane: request framing.
  BAD_REQUEST: def('BAD_REQUEST', 400, 'bad_request', 'Malformed request'),
  HEADERS_TOO_LARGE: def('HEADERS_TOO_LARGE', 431, 'request_header_fields_too_large', 'Request header fields too large'),
  BODY_TOO_LARGE: def('BODY_TOO_LARGE', 413, 'payload_too_large', 'Request body exceeds the configured limit'),
  REQUEST_TIMEOUT: def('REQUEST_TIMEOUT', 408, 'request_timeout', 'Request was not received in time'),
  // Data plane: routing.
  ROUTE_NOT_FOUND: def('ROUTE_NOT_FOUND', 404, 'route_not_found', 'No route matches this request'),
  METHOD_NOT_ALLOWED: def('METHOD_NOT_ALLOWED', 405, 'method_not_allowed', 'Method not allowed on this route'),
  MISDIRECTED_REQUEST: def('MISDIRECTED_REQUEST', 421, 'misdirected_request', 'Host does not match the TLS server name'),
  // Data plane: upstream.
  UPSTREAM_UNAVAILABLE: def('UPSTREAM_UNAVAILABLE', 502, 'upstream_unavailable', 'Upstream is unavailable'),
  UPSTREAM_ERROR: def('UPSTREAM_ERROR', 502, 'upstream_error', 'Upstream failed to answer'),
  UPSTREAM_TLS_ERROR: def('UPSTREAM_TLS_ERROR', 502, 'upstream_tls_error', 'TLS to the upstream failed'),
  UPSTREAM_TIMEOUT: def('UPSTREAM_TIMEOUT', 504, 'upstream_timeout', 'Upstream did not answer in time'),
  // Data plane: access (authentication, authorisation). Messages never say which part of a credential failed.
  AUTH_REQUIRED: def('AUTH_REQUIRED', 401, 'unauthenticated', 'Valid credentials are required'),
  ACCESS_DENIED: def('ACCESS_DENIED', 403, 'forbidden', 'The caller may not use this service'),
  SUBSCRIPTION_PENDING: def('SUBSCRIPTION_PENDING', 403, 'subscription_pending', "The application's subscription to this service awaits approval"),
  CLIENT_CERT_REVOKED: def('CLIENT_CERT_REVOKED', 403, 'certificate_revoked', 'The client certificate of this connection has been revoked'),
  CLIENT_CERT_UNTRUSTED: def('CLIENT_CERT_UNTRUSTED', 403, 'certificate_untrusted', 'The client certificate of this connection is no longer trusted here'),
  CLIENT_CERT_REQUIRED: def('CLIENT_CERT_REQUIRED', 403, 'certificate_required', 'This domain now requires a client certificate: connect again with one'),
  TOO_MANY_AUTH_FAILURES: def('TOO_MANY_AUTH_FAILURES', 429, 'too_many_auth_failures', 'Too many failed authentication attempts; try again later'),
  // Data plane: LLM APIs.
  MODEL_NOT_FOUND: def('MODEL_NOT_FOUND', 404, 'model_not_found', 'The model does not exist or you do not have access to it'),
  ENDPOINT_NOT_FOUND: def('ENDPOINT_NOT_FOUND', 404, 'not_found', 'This LLM service has no such endpoint'),
  // Lifecycle.
  SHUTTING_DOWN: def('SHUTTING_DOWN', 503, 'service_unavailable', 'Gateway is shutting down'),
  NOT_READY: def('NOT_READY', 503, 'not_ready', 'Gateway is not ready'),
  INTERNAL: def('INTERNAL', 500, 'internal_error', 'Internal error'),
  // Admin API.
  UNAUTHENTICATED: def('UNAUTHENTICATED', 401, 'unauthenticated', 'Missing or invalid credentials'),
  FORBIDDEN: def('FORBIDDEN', 403, 'forbidden', 'Not allowed'),
  NOT_FOUND: def('NOT_FOUND', 404, 'not_found', 'Not found'),
  VALIDATION: def('VALIDATION', 400, 'invalid_request', 'Request validation failed'),
  CONFLICT: def('CONFLICT', 409, 'conflict', 'Conflicts with existing configuration'),
  UNSUPPORTED_MEDIA_TYPE: def('UNSUPPORTED_MEDIA_TYPE', 415, 'unsupported_media_type', 'Content-Type must be application/json'),
  CHANGE_NOT_LOADED: def('CHANGE_NOT_LOADED', 500, 'change_not_loaded', 'The change is stored, but the data plane could not load it and keeps serving the previous configuration'),
  // Configuration files and settings.
  CONFIG_INVALID: def('CONFIG_INVALID', 400, 'invalid_config', 'Configuration is invalid'),
  // Storage.
  STORAGE: def('STORAGE', 503, 'storage_unavailable', 'Storage is unavailable'),
});

export type ErrorKind = keyof typeof Errors;

/** One problem inside a validation error: where (`path`, dotted) and what. */
export interface ErrorDetail {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/**
 * An error with a registry entry. Throw it anywhere; the data plane and admin API turn it into
 * the JSON wire shape with {@link GatewayError.toResponse}. Anything else thrown becomes INTERNAL.
 */
export class GatewayError extends Error {
  readonly code: string;
  readonly status: number;
  readonly type: string;
  readonly details: ErrorDetail[] | undefined;

  constructor(definition: ErrorDefinition, message?: string, details?: ErrorDetail[], options?: { cause?: unknown }) {
    super(message ?? definition.message, options);
    this.name = 'GatewayError';
    this.code = definition.code;
    this.status = definition.status;
    this.type = definition.type;
    this.details = details;
  }

  /** The JSON body a client receives. */
  toResponse(): { error: { type: string; code: string; message: string; details?: ErrorDetail[] } } {
    const body: { type: string; code: string; message: string; details?: ErrorDetail[] } = {
      type: this.type,
      code: this.code,
      message: this.message,
    };
    if (this.details && this.details.length > 0) body.details = this.details;
    return { error: body };
  }

  /** The JSON body, serialised. */
  toJSONString(): string {
    return JSON.stringify(this.toResponse());
  }
}

/** Builds a GatewayError from a registry kind. */
export function gatewayError(kind: ErrorKind, message?: string, details?: ErrorDetail[], cause?: unknown): GatewayError {
  return new GatewayError(Errors[kind], message, details, cause === undefined ? undefined : { cause });
}

/** Normalises anything thrown into a GatewayError; unknown errors become INTERNAL with a generic message. */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError(Errors.INTERNAL, undefined, undefined, { cause: err });
}

/** Pre-serialised bodies for the hot path (errors raised with their default message). */
export function staticErrorBody(kind: ErrorKind): string {
  return new GatewayError(Errors[kind]).toJSONString();
}
