/**
 * The exchange the Gemini API and Vertex AI adapters share: they differ only in URL layout and
 * authentication (a {@link GoogleEndpoint}); bodies, answers, streams and errors are the same.
 */

import type { ChatChunk, ChatRequest, ChatResponse } from '../../wire/chat.js';
import { retryAfterMs, sendJson, sendSse, statusFailure, type ErrorMapper } from '../provider-http.js';
import type { AttemptIo, ProviderAdapter, ProviderTarget } from '../provider.js';
import { toGeminiRequest } from './gemini-request.js';
import { chatChunksFromGoogle, chatResponseFromGoogle } from './gemini-response.js';
import type { GeminiResponse, GoogleRpcError } from './gemini-wire.js';

/** A model method: `generateContent`, `streamGenerateContent?alt=sse`, `batchEmbedContents`, `predict`. */
export type GoogleMethod = 'generateContent' | 'streamGenerateContent?alt=sse' | 'batchEmbedContents' | 'predict';

export interface GoogleEndpoint {
  /** Shown in error messages ("Gemini answered 500"). */
  readonly name: string;
  /** The URL of a method of the target's model and the headers that authenticate it. Throws ProviderError. */
  resolve(target: ProviderTarget, io: AttemptIo, method: GoogleMethod): Promise<{ url: string; headers: Record<string, string> }>;
}

const ERROR_INFO = 'type.googleapis.com/google.rpc.ErrorInfo';
const RETRY_INFO = 'type.googleapis.com/google.rpc.RetryInfo';

/** The `details` of a `{"error": google.rpc.Status}` body (a one-element array of them, for streams without alt=sse). */
function rpcDetails(text: string): Array<Record<string, unknown>> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [];
  }
  const first: unknown = Array.isArray(body) ? body[0] : body;
  const details = (first as { error?: GoogleRpcError } | null)?.error?.details;
  return Array.isArray(details) ? details.filter((d) => d !== null && typeof d === 'object') : [];
}

/** A `google.protobuf.Duration` in JSON ("30s", "0.5s") in ms. */
function durationMs(v: unknown): number | undefined {
  if (typeof v !== 'string' || !/^\d+(\.\d+)?s$/.test(v)) return undefined;
  return Math.ceil(Number(v.slice(0, -1)) * 1000);
}

/**
 * Google's error details, read into the failure: a bad or expired API key (400 INVALID_ARGUMENT with
 * ErrorInfo reason API_KEY_INVALID) is reported as the 401 it means, so that routing rests the key;
 * a RetryInfo `retryDelay` stands for Retry-After when no header gives one.
 */
export function googleErrorMapper(name: string): ErrorMapper {
  return (status, headers, text) => {
    const details = rpcDetails(text);
    const keyInvalid = status === 400 && details.some((d) => d['@type'] === ERROR_INFO && d.reason === 'API_KEY_INVALID');
    const delay = details.filter((d) => d['@type'] === RETRY_INFO).map((d) => durationMs(d.retryDelay)).find((ms) => ms !== undefined);
    if (!keyInvalid && delay === undefined) return undefined;
    return statusFailure(status, headers, text, name, { status: keyInvalid ? 401 : undefined, retryAfterMs: retryAfterMs(headers) ?? delay });
  };
}

/** POSTs a JSON body to a model method and parses the JSON answer. Throws ProviderError. */
export async function postGoogle<T>(ep: GoogleEndpoint, target: ProviderTarget, io: AttemptIo, method: GoogleMethod, body: unknown): Promise<T> {
  const { url, headers } = await ep.resolve(target, io, method);
  return sendJson<T>(target, io, { url, headers, body }, ep.name, googleErrorMapper(ep.name));
}

/** `chat` and `chatStream` over an endpoint. */
export function googleChat(ep: GoogleEndpoint): Pick<ProviderAdapter, 'chat' | 'chatStream'> {
  return {
    async chat(req: ChatRequest, target: ProviderTarget, io: AttemptIo): Promise<ChatResponse> {
      const answer = await postGoogle<GeminiResponse>(ep, target, io, 'generateContent', toGeminiRequest(req));
      return chatResponseFromGoogle(answer, target.model, ep.name);
    },
    async chatStream(req: ChatRequest, target: ProviderTarget, io: AttemptIo): Promise<AsyncIterable<ChatChunk>> {
      const { url, headers } = await ep.resolve(target, io, 'streamGenerateContent?alt=sse');
      const events = await sendSse(target, io, { url, headers, body: toGeminiRequest(req) }, ep.name, googleErrorMapper(ep.name));
      return chatChunksFromGoogle(events, target.model, ep.name);
    },
  };
}
