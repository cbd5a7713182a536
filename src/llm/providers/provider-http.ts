/**
 * The HTTP exchange every adapter uses: one JSON request through the provider's pool, failures turned
 * into {@link ProviderError}s (status, Retry-After, the provider's own message), SSE bodies read as
 * events. Adapters supply only URLs, headers and body shapes, and, where their errors need it, an
 * {@link ErrorMapper}.
 */

import { request, type Dispatcher } from 'undici';
import { mapUpstreamError } from '../../upstreams/upstream-errors.js';
import { sseEvents, type SseEvent } from '../wire/sse-parser.js';
import { exchange, type BufferedAnswer, type ResponseHeaders } from './provider-exchange.js';
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
export function retryAfterMs(headers: ResponseHeaders, now = Date.now()): number | undefined {
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
export function statusFailure(status: number, headers: ResponseHeaders, bodyText: string, providerName: string, over: StatusFailureOverrides = {}): ProviderError {
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
export type ErrorMapper = (status: number, headers: ResponseHeaders, bodyText: string) => ProviderError | undefined;

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

/** An absolute http(s) URL with a path and nothing a URL parser would rewrite (spaces, fragments, non-ASCII…). */
const PLAIN_URL = /^https?:\/\/[A-Za-z0-9.\-:[\]]+(\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*)?)$/;
/** An origin a URL parser would rewrite: upper case, or a scheme's default port. */
const UNCANONICAL_ORIGIN = /[A-Z]|^http:\/\/.*:80$|^https:\/\/.*:443$/;
/** A `.` or `..` path segment, which a URL parser would resolve. */
const DOT_SEGMENT = /\/\.\.?(?:[/?]|$)/;

/** Origin and path (with query) of an adapter's URL, as `new URL` gives them: sliced when the URL is plain, else parsed. */
export function splitUrl(url: string): { origin: string; path: string } {
  const m = PLAIN_URL.exec(url);
  if (m) {
    const origin = url.slice(0, url.length - m[1]!.length);
    if (!DOT_SEGMENT.test(m[1]!) && !UNCANONICAL_ORIGIN.test(origin)) return { origin, path: m[1]! };
  }
  const u = new URL(url);
  return { origin: u.origin, path: u.pathname + u.search };
}

/** The request's headers: accept, the target's own, the adapter's, and content-type for a body. */
function requestHeaders(target: ProviderTarget, req: ProviderRequest, body: string | Uint8Array | undefined): Record<string, string> {
  const headers: Record<string, string> = { accept: req.accept ?? 'application/json' };
  for (const [n, v] of target.headers) headers[n] = v;
  if (req.headers) Object.assign(headers, req.headers);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  return headers;
}

function requestBody(req: ProviderRequest): string | Uint8Array | undefined {
  if (req.body === undefined) return undefined;
  return typeof req.body === 'string' || req.body instanceof Uint8Array ? req.body : JSON.stringify(req.body);
}

/** The failure a non-2xx answer becomes: the adapter's reading, else {@link statusFailure}. */
function answerFailure(status: number, headers: ResponseHeaders, text: string, providerName: string, mapError: ErrorMapper | undefined): ProviderError {
  return mapError?.(status, headers, text) ?? statusFailure(status, headers, text, providerName);
}

/**
 * Sends a request through the target's pool. Resolves with a 2xx response (body unread); a non-2xx
 * answer becomes the ProviderError `mapError` gives (default, and when it gives none: {@link statusFailure}),
 * a network failure or the attempt's abort a ProviderError from {@link dispatchFailure}.
 */
export async function send(target: ProviderTarget, io: AttemptIo, req: ProviderRequest, providerName: string, mapError?: ErrorMapper): Promise<Dispatcher.ResponseData> {
  const body = requestBody(req);
  let res: Dispatcher.ResponseData;
  try {
    res = await request(req.url, {
      method: req.method ?? 'POST',
      headers: requestHeaders(target, req, body),
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
  throw answerFailure(res.statusCode, res.headers, text, providerName, mapError);
}

/**
 * Sends and parses a JSON answer, read whole (through {@link exchange}: one dispatch, the body's
 * bytes parsed once). Failures as for {@link send}; a body that is not JSON is a protocol failure (502).
 */
export async function sendJson<T>(target: ProviderTarget, io: AttemptIo, req: ProviderRequest, providerName: string, mapError?: ErrorMapper): Promise<T> {
  const body = requestBody(req);
  const { origin, path } = splitUrl(req.url);
  let answer: BufferedAnswer;
  try {
    answer = await exchange(
      target.dispatcher,
      { origin, path, method: req.method ?? 'POST', headers: requestHeaders(target, req, body), body, headersTimeout: io.headersTimeout, bodyTimeout: io.bodyTimeout },
      io,
      MAX_ERROR_BODY,
    );
  } catch (err) {
    throw dispatchFailure(err, io);
  }
  if (answer.status < 200 || answer.status >= 300) throw answerFailure(answer.status, answer.headers, answer.body.toString('utf8'), providerName, mapError);
  // A UTF-8 byte order mark is dropped, as a text decoder would.
  const bytes = answer.body;
  const text = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.toString('utf8', 3) : bytes.toString('utf8');
  try {
    return JSON.parse(text) as T;
  } catch {
    throw protocolFailure(`${providerName} sent a response that is not JSON`);
  }
}

/** Sends a streaming request; resolves with its SSE events once the provider accepted it (a failure reading them, such as a body timeout, reset or abort, thrown as a ProviderError). */
export async function sendSse(target: ProviderTarget, io: AttemptIo, req: ProviderRequest, providerName: string, mapError?: ErrorMapper): Promise<AsyncIterable<SseEvent>> {
  const res = await send(target, io, { ...req, accept: req.accept ?? 'text/event-stream' }, providerName, mapError);
  return sseEvents(res.body, (err) => dispatchFailure(err, io));
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
