import { GatewayError, gatewayError } from '../../core/errors.js';

/** Matches the `user:password@` part of any URL in a message. */
const URL_PASSWORD_RE = /([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*):[^\s@/]*@/gi;

/** Removes URL passwords and the given secrets from a message. */
export function redact(message: string, secrets: readonly string[] = []): string {
  let out = message.replace(URL_PASSWORD_RE, '$1:***@');
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join('***');
  }
  return out;
}

/** The most useful one-line text of a thrown value (some socket errors carry an empty message). */
export function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return [...new Set(err.errors.map(errorText))].join('; ');
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (err.message) return err.message;
    if (typeof code === 'string') return code;
    return err.name;
  }
  return String(err);
}

/** The driver's error code (`SQLITE_…` or a PostgreSQL SQLSTATE), if any. */
export function errorCode(err: unknown): string | undefined {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** Builds a STORAGE error whose message names the backend and the redacted cause. */
export function storageError(label: string, err: unknown, secrets: readonly string[], context?: string): GatewayError {
  const text = redact(errorText(err), secrets);
  const prefix = context ? `${label} ${context} failed` : `${label} error`;
  return gatewayError('STORAGE', `${prefix}: ${text}`, undefined, err);
}

/**
 * Runs `fn`, turning anything it throws that is not already a GatewayError (a driver error) into
 * a STORAGE error. GatewayErrors (NOT_FOUND, CONFLICT, …) pass through unchanged.
 */
export async function withStorageErrors<T>(toStorageError: (err: unknown) => GatewayError, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw err instanceof GatewayError ? err : toStorageError(err);
  }
}
