/**
 * What a request presents as credentials, read from its headers without judging them:
 * `x-api-key: <key>` or `Authorization: Bearer <key or JWT>`. Anything unreadable (a repeated
 * header, another scheme, two different credentials) is "malformed", which the caller turns into
 * the same generic 401 as a wrong credential.
 */

import type { IncomingHttpHeaders } from 'node:http';
import { API_KEY_PREFIX } from './credential-secrets.js';

export interface PresentedCredentials {
  /** An API key (from x-api-key, or a Bearer value that looks like one). */
  readonly apiKey: string | undefined;
  /** The header the API key came in. */
  readonly apiKeyHeader: 'x-api-key' | 'authorization' | undefined;
  /** A Bearer token that is not an API key (a JWT). */
  readonly bearer: string | undefined;
  readonly malformed: boolean;
}

const NONE: PresentedCredentials = Object.freeze({ apiKey: undefined, apiKeyHeader: undefined, bearer: undefined, malformed: false });
const MALFORMED: PresentedCredentials = Object.freeze({ apiKey: undefined, apiKeyHeader: undefined, bearer: undefined, malformed: true });

/** Longest credential header value considered at all. */
const MAX_LENGTH = 8192;

export function presentedCredentials(headers: IncomingHttpHeaders): PresentedCredentials {
  const xKey = headers['x-api-key'];
  const authorization = headers.authorization;
  if (xKey === undefined && authorization === undefined) return NONE;
  if (Array.isArray(xKey) || (xKey !== undefined && (xKey.length === 0 || xKey.length > MAX_LENGTH))) return MALFORMED;
  let bearer: string | undefined;
  if (authorization !== undefined) {
    if (authorization.length > MAX_LENGTH || !/^bearer /i.test(authorization)) return MALFORMED;
    bearer = authorization.slice(7).trim();
    if (bearer === '' || /\s/.test(bearer)) return MALFORMED;
  }
  if (bearer !== undefined && bearer.startsWith(API_KEY_PREFIX)) {
    if (xKey !== undefined && xKey !== bearer) return MALFORMED;
    return { apiKey: bearer, apiKeyHeader: xKey === undefined ? 'authorization' : 'x-api-key', bearer: undefined, malformed: false };
  }
  return { apiKey: xKey, apiKeyHeader: xKey === undefined ? undefined : 'x-api-key', bearer, malformed: false };
}
