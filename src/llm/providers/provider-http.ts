/**
 * The HTTP exchange every adapter uses: one JSON request through the provider's pool, failures turned
 * into {@link ProviderError}s (status, Retry-After, the provider's own message), SSE bodies read as
 * events. Adapters supply only URLs, headers and body shapes, and, where their errors need it, an
 * {@link ErrorMapper}.
 */

import { request, type Dispatcher } from 'undici';
import { mapUpstreamError } from '../../upstreams/upstream-errors.js';
import { sseEvents, type SseEvent } from '../wire/sse-parser.js';
import { ProviderError, errorTypeForStatus, type AttemptIo, type ProviderTarget } from './provider.js';

export interface ProviderRequest {
  readonly url: string;
  readonly method?: 'POST' | 'GET';
  /** Request headers besides content-type/accept and the target's own headers (lower-case names). */
  readonly headers?: Record<string, string>;
  /** JSON body (serialised here) or bytes already prepared (signed requests). */
  readonly body?: unknown;
  /** Accept header; default application/json. */
  readonly accept?: string;
}

/** Longest error body read from a provider, in bytes; the rest is discarded. */
const MAX_ERROR_BODY = 64 * 1024;

/** The error a failed dispatch becomes: the abort reason when the attempt was cancelled, else by network failure. */
export function dispatchFailure(err: unknown, io: AttemptIo): ProviderError {
  if (err instanceof ProviderError) return err;
  if (io.signal.aborted) {
    const reason: unknown = io.signal.reason;
    if (reason instanceof ProviderError) return reason;
    return new ProviderError('connection', 499, 'api_error', 'The request was cancelled', { cause: err });
  }
  const ge = mapUpstreamError(err);
  if (ge.status === 504) return new ProviderError('timeout', 504, 'timeout_error', ge.message, { cause: err });
  return new ProviderError('connection', 502, 'api_error', ge.message, { cause: err });
}

/** Parses Retry-After (seconds or an HTTP date) or OpenAI's retry-after-ms, in ms. */
export function retryAfterMs(headers: Dispatcher.ResponseData['headers'], now = Date.now()): number | undefined {
  const ms = headers['retry-after-ms'];
  if (typeof ms === 'string' && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const ra = headers['retry-after'];
  if (typeof ra !== 'string' || ra === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(ra)) return Math.ceil(Number(ra) * 1000);
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** What an error body says, in the shapes providers use: `{error:{message,type,code,param}}`, `{error:"…"}`, `{message}`. */
export function errorBodyFields(text: string): { message?: string; type?: string; code?: string; param?: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text.trim() ? { message: text.trim().slice(0, 500) } : {};
  }
  if (Array.isArray(body)) body = body[0];
  if (!body || typeof body !== 'object') return {};
  const b = body as Record<string, unknown>;
  const e = b.error;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
  if (typeof e === 'string') return { message: e, type: str(b.type) };
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    return { message: str(o.message), type: str(o.type) ?? str(o.status), code: str(o.code), param: str(o.param) };
  }
  return { message: str(b.message) ?? str(b.detail), type: str(b.type) ?? str(b.__type), code: str(b.code) };
}

/** Fields a provider's {@link ErrorMapper} sets over what {@link statusFailure} reads from the response. */
export interface StatusFailureOverrides {
  /** The status to report instead of the provider's (e.g. 401 for a key the provider answers with 400). */
  readonly status?: number | undefined;
  readonly retryAfterMs?: number | undefined;
  readonly code?: string | undefined;
}

/**
 * A ProviderError for a non-2xx response, from its status, Retry-After and body. Overrides that are
 * set replace what the response says; the error type always follows the (final) status.
 */
export function statusFailure(status: number, headers: Dispatcher.ResponseData['headers'], bodyText: string, providerName: string, over: StatusFailureOverrides = {}): ProviderError {
  const f = errorBodyFields(bodyText);
  const final = over.status ?? status;
  // The type follows the status: providers disagree (OpenAI calls a bad key "invalid_request_error").
  const type = errorTypeForStatus(final);
  const message = f.message ? f.message : `${providerName} answered ${status}`;
  return new ProviderError('status', final, type, message, { retryAfterMs: over.retryAfterMs ?? retryAfterMs(headers), code: over.code ?? f.code, param: f.param });
}

/**
 * A provider's own reading of a non-2xx response (its error codes, its retry hints, statuses it uses
 * for other meanings). Returns undefined to leave the response to {@link statusFailure}. Must not throw.
 */
export type ErrorMapper = (status: number, headers: Dispatcher.ResponseData['headers'], bodyText: string) => ProviderError | undefined;

/** `Authorization: Bearer` with the target's key; no header for a target without a key. */
export function bearerHeaders(target: Pick<ProviderTarget, 'apiKey'>): Record<string, string> {
  return target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {};
}

/** The body's text, at most `limit` bytes of it (the rest is read and discarded, so the connection is reusable). */
export async function readCapped(body: AsyncIterable<Uint8Array>, limit: number = MAX_ERROR_BODY): Promise<string> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < limit) parts.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(parts).subarray(0, limit).toString('utf8');
}

/**
 * Sends a request through the target's pool. Resolves with a 2xx response (body unread); a non-2xx
 * answer becomes the ProviderError `mapError` gives (default, and when it gives none: {@link statusFailure}),
 * a network failure or the attempt's abort a ProviderError from {@link dispatchFailure}.
 */
export async function send(target: ProviderTarget, io: AttemptIo, req: ProviderRequest, providerName: string, mapError?: ErrorMapper): Promise<Dispatcher.ResponseData> {
  const headers: Record<string, string> = { accept: req.accept ?? 'application/json' };
  for (const [n, v] of target.headers) headers[n] = v;
  if (req.headers) Object.assign(headers, req.headers);
  let body: string | Uint8Array | undefined;
  if (req.body !== undefined) {
    body = typeof req.body === 'string' || req.body instanceof Uint8Array ? req.body : JSON.stringify(req.body);
    headers['content-type'] ??= 'application/json';
  }
  let res: Dispatcher.ResponseData;
  try {
    res = await request(req.url, {
      method: req.method ?? 'POST',
      headers,
      body,
      dispatcher: target.dispatcher,
      signal: io.signal,
      headersTimeout: io.headersTimeout,
      bodyTimeout: io.bodyTimeout,
    });
  } catch (err) {
    throw dispatchFailure(err, io);
  }
  if (res.statusCode >= 200 && res.statusCode < 300) return res;
  let text = '';
  try {
    text = await readCapped(res.body, MAX_ERROR_BODY);
  } catch (err) {
    throw dispatchFailure(err, io);
  }
  throw mapError?.(res.statusCode, res.headers, text) ?? statusFailure(res.statusCode, res.headers, text, providerName);
}

/** Sends and parses a JSON answer. A body that is not JSON is a protocol failure (502). */
export async function sendJson<T>(target: ProviderTarget, io: AttemptIo, req: ProviderRequest, providerName: string, mapError?: ErrorMapper): Promise<T> {
  const res = await send(target, io, req, providerName, mapError);
  let text: string;
  try {
    text = await res.body.text();
  } catch (err) {
    throw dispatchFailure(err, io);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw protocolFailure(`${providerName} sent a response that is not JSON`);
  }
}

/** Sends a streaming request; resolves with its SSE events once the provider accepted it. */
export async function sendSse(target: ProviderTarget, io: AttemptIo, req: ProviderRequest, providerName: string, mapError?: ErrorMapper): Promise<AsyncIterable<SseEvent>> {
  const res = await send(target, io, { ...req, accept: req.accept ?? 'text/event-stream' }, providerName, mapError);
  return guardStream(sseEvents(res.body), io);
}

/** Re-throws stream failures (body timeout, reset, abort) as ProviderErrors. */
export async function* guardStream<T>(events: AsyncIterable<T>, io: AttemptIo): AsyncGenerator<T> {
  try {
    for await (const e of events) yield e;
  } catch (err) {
    throw dispatchFailure(err, io);
  }
}

/** A 502 for an answer that breaks the provider's protocol (malformed, or a stream ended early). */
export function protocolFailure(message: string): ProviderError {
  return new ProviderError('protocol', 502, 'api_error', message);
}

/** Parses one SSE event's JSON data; a malformed event is a protocol failure. */
export function eventJson<T>(e: SseEvent, providerName: string): T {
  try {
    return JSON.parse(e.data) as T;
  } catch {
    throw protocolFailure(`${providerName} sent a stream event that is not JSON`);
  }
}
