/**
 * OAuth2 access tokens for Google service accounts (the JWT-bearer grant, RFC 7523): a JWT signed
 * with the account's private key is exchanged at its `token_uri` for a bearer token that lasts about
 * an hour. Tokens are cached per key until a minute before they expire.
 *
 * Reference: https://developers.google.com/identity/protocols/oauth2/service-account#httprest
 */

import { createHash } from 'node:crypto';
import { importPKCS8, SignJWT, type CryptoKey } from 'jose';
import { request, type Dispatcher } from 'undici';
import { dispatchFailure, protocolFailure, readCapped } from '../provider-http.js';
import { signalAttemptIo } from '../attempt-io.js';
import { ProviderError, errorTypeForStatus, type AttemptIo, type ProviderTarget } from '../provider.js';

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
/** Lifetime asked for the signed assertion (Google's maximum). */
const ASSERTION_SECONDS = 3600;
/** A token is replaced this long before Google says it expires. */
const REFRESH_MARGIN_MS = 60_000;
/** Longest token-endpoint answer read, in bytes. */
const MAX_ANSWER = 64 * 1024;

/** The fields of a service-account key file the exchange uses. */
export interface ServiceAccount {
  readonly clientEmail: string;
  readonly privateKey: string;
  readonly privateKeyId: string | undefined;
  readonly tokenUri: string;
  readonly projectId: string | undefined;
}

export interface AccessToken {
  readonly token: string;
  /** The service account's project (the default for Vertex URLs). */
  readonly projectId: string | undefined;
}

function authFailure(message: string): ProviderError {
  return new ProviderError('status', 401, 'authentication_error', message);
}

/** Reads a service-account key (JSON). Throws a 401 ProviderError, never quoting the key. */
export function parseServiceAccount(key: string | undefined): ServiceAccount {
  let v: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = key ? JSON.parse(key) : undefined;
    if (parsed && typeof parsed === 'object') v = parsed as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  const str = (x: unknown): string | undefined => (typeof x === 'string' && x !== '' ? x : undefined);
  const clientEmail = str(v?.client_email);
  const privateKey = str(v?.private_key);
  if (!clientEmail || !privateKey) throw authFailure('The key is not a Google service-account JSON key (client_email and private_key are required)');
  return { clientEmail, privateKey, privateKeyId: str(v?.private_key_id), tokenUri: str(v?.token_uri) ?? DEFAULT_TOKEN_URI, projectId: str(v?.project_id) };
}

async function assertion(sa: ServiceAccount, nowMs: number): Promise<string> {
  let key: CryptoKey;
  try {
    key = await importPKCS8(sa.privateKey, 'RS256');
  } catch {
    throw authFailure('The service account private_key is not a PKCS#8 RSA key');
  }
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({ scope: SCOPE })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(sa.privateKeyId ? { kid: sa.privateKeyId } : {}) })
    .setIssuer(sa.clientEmail)
    .setAudience(sa.tokenUri)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_SECONDS)
    .sign(key);
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * A refused exchange: 401 for refusals of the account (400/401/403, e.g. invalid_grant), the
 * endpoint's own status for overload and server errors. Carries the endpoint's error_description.
 */
function exchangeFailure(status: number, text: string): ProviderError {
  const b = parseObject(text);
  const why = [b.error, b.error_description].filter((x) => typeof x === 'string' && x).join(': ').slice(0, 300) || `status ${status}`;
  const message = `Google token exchange failed: ${why}`;
  if (status === 429 || status >= 500) return new ProviderError('status', status, errorTypeForStatus(status), message);
  return new ProviderError('status', 401, 'authentication_error', message, { code: typeof b.error === 'string' ? b.error : undefined });
}

/** Resolves with the promise, or rejects as soon as the attempt is aborted (the promise runs on). */
function untilAborted<T>(p: Promise<T>, io: AttemptIo): Promise<T> {
  if (io.signal.aborted) return Promise.reject(dispatchFailure(io.signal.reason, io));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(dispatchFailure(io.signal.reason, io));
    io.signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => io.signal.removeEventListener('abort', onAbort));
  });
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

interface CacheEntry extends AccessToken {
  readonly refreshAt: number;
}

/**
 * Access tokens per service-account key, cached in memory under a SHA-256 of the key (never the key
 * itself). Safe for concurrent use: concurrent callers for one key share a single exchange. A failed
 * exchange is not cached. One instance per adapter; the clock is injected for tests.
 */
export class GoogleTokenSource {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly pending = new Map<string, Promise<CacheEntry>>();

  /**
   * `now` (ms) signs assertions and expires tokens. `dispatcher` carries exchanges with a token
   * endpoint on another origin than the provider's (default: undici's global dispatcher).
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly dispatcher?: Dispatcher,
  ) {}

  /**
   * A valid access token for the target's key (a service-account JSON). The exchange goes through
   * the target's dispatcher when the token endpoint shares the provider's origin (a target's
   * dispatcher is a pool bound to that origin: it would send any other URL there too), else through
   * the source's own; with the attempt's timeouts. Aborting the attempt rejects this call but lets a
   * shared exchange finish for the others. Throws ProviderError (401 for an unusable key or a
   * refused exchange).
   */
  async token(target: ProviderTarget, io: AttemptIo): Promise<AccessToken> {
    const id = createHash('sha256').update(target.apiKey ?? '').digest('base64url');
    const hit = this.cache.get(id);
    if (hit && this.now() < hit.refreshAt) return hit;
    let p = this.pending.get(id);
    if (!p) {
      p = this.exchange(id, target, io).finally(() => this.pending.delete(id));
      // A caller that gave up leaves nobody to observe a failure.
      p.catch(() => {});
      this.pending.set(id, p);
    }
    return untilAborted(p, io);
  }

  private async exchange(id: string, target: ProviderTarget, io: AttemptIo): Promise<CacheEntry> {
    const sa = parseServiceAccount(target.apiKey);
    const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await assertion(sa, this.now()) });
    // Shared by every waiting caller, so not bound to this caller's signal.
    const own: AttemptIo = signalAttemptIo(new AbortController().signal, io.headersTimeout, io.bodyTimeout);
    let status: number;
    let text: string;
    try {
      const res = await request(sa.tokenUri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        dispatcher: sameOrigin(sa.tokenUri, target.baseUrl) ? target.dispatcher : this.dispatcher,
        headersTimeout: io.headersTimeout,
        bodyTimeout: io.bodyTimeout,
      });
      status = res.statusCode;
      text = await readCapped(res.body, MAX_ANSWER);
    } catch (err) {
      throw dispatchFailure(err, own);
    }
    if (status !== 200) throw exchangeFailure(status, text);
    const b = parseObject(text);
    if (typeof b.access_token !== 'string' || b.access_token === '') throw protocolFailure('The Google token endpoint answered without an access_token');
    const lifetime = typeof b.expires_in === 'number' && b.expires_in > 0 ? b.expires_in : ASSERTION_SECONDS;
    const entry: CacheEntry = { token: b.access_token, projectId: sa.projectId, refreshAt: this.now() + lifetime * 1000 - REFRESH_MARGIN_MS };
    for (const [k, e] of this.cache) if (this.now() >= e.refreshAt) this.cache.delete(k);
    this.cache.set(id, entry);
    return entry;
  }
}
