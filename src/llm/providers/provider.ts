/**
 * The provider contract. A provider adapter speaks one upstream API (OpenAI, Anthropic, Gemini…) and
 * translates between it and the canonical chat format (wire/chat.ts). Adapters are stateless per
 * request and created once per gateway; everything about one attempt (URL, model, key, pool) comes in
 * a {@link ProviderTarget}. Every adapter passes the shared conformance suite (provider.conformance.ts).
 */

import type { Dispatcher } from 'undici';
import type { ChatChunk, ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse } from '../wire/chat.js';

/** One deployment chosen for one attempt: which provider object, which upstream model, which key. */
export interface ProviderTarget {
  readonly tenant: string;
  /** Name of the `llm-provider` object. */
  readonly provider: string;
  /** The provider object's `type` (adapter name). */
  readonly type: string;
  /** Upstream model id (what the provider calls it). */
  readonly model: string;
  /** API base URL without trailing slash, e.g. "https://api.openai.com/v1". */
  readonly baseUrl: string;
  /** The key chosen for this attempt, in clear; undefined for providers without authentication (local servers). */
  readonly apiKey: string | undefined;
  /** The key's name in the provider object (for logs and routing), never its value. */
  readonly keyName: string | undefined;
  /** Extra headers for every upstream request (lower-case names). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Adapter-specific settings from the provider object (Azure `apiVersion`, Bedrock `region`, Vertex `project`/`location`…). */
  readonly options: Readonly<Record<string, string>>;
  /** Pool for the provider's origin. */
  readonly dispatcher: Dispatcher;
}

/** Per-attempt I/O limits and cancellation (made by attempt-io.ts). */
export interface AttemptIo {
  /** Aborted on client disconnect, on the attempt timeout and on the total timeout. */
  readonly signal: AbortSignal;
  /**
   * Calls `fn` once with the abort reason when `signal` aborts (at once when it already has);
   * returns a function that cancels the call. The same as listening on `signal`, for less.
   */
  onAbort(fn: (reason: unknown) => void): () => void;
  /** Longest wait for response headers, ms. */
  readonly headersTimeout: number;
  /** Longest gap between two body chunks, ms. */
  readonly bodyTimeout: number;
}

export interface ProviderAdapter {
  /** The provider `type` this adapter serves ("openai", "anthropic"…). */
  readonly type: string;
  /**
   * The API base URL when a provider object gives none (may depend on options, e.g. a region);
   * undefined makes `baseUrl` required for this type.
   */
  defaultBaseUrl(options: Readonly<Record<string, string>>): string | undefined;
  /** Options a provider object of this type must set (checked when config is applied). */
  readonly requiredOptions?: readonly string[];
  /** Whether a key is required (false for local servers such as Ollama, vLLM, llama.cpp). Default true. */
  readonly keyRequired?: boolean;
  /** Embeddings, when the provider has them. */
  readonly embeddings?: (req: EmbeddingsRequest, target: ProviderTarget, io: AttemptIo) => Promise<EmbeddingsResponse>;
  /** A non-streaming chat completion. Throws {@link ProviderError} for any failure. */
  chat(req: ChatRequest, target: ProviderTarget, io: AttemptIo): Promise<ChatResponse>;
  /**
   * A streaming chat completion. Resolves once the provider accepted the request (a 2xx response
   * head); throws {@link ProviderError} before that. The iterable yields canonical chunks as the
   * provider's events arrive, and throws {@link ProviderError} on a mid-stream failure (a stream that
   * ends before the provider's terminal event is a protocol failure, 502). The last
   * chunk carries `usage` (choices empty) whenever the provider reported usage. Breaking out of the
   * iteration releases the upstream connection.
   */
  chatStream(req: ChatRequest, target: ProviderTarget, io: AttemptIo): Promise<AsyncIterable<ChatChunk>>;
}

/** Why an attempt failed, as routing needs to know it. */
export type FailureKind = 'status' | 'timeout' | 'connection' | 'protocol';

/** OpenAI error types, which the client-facing formats map from. */
export type ProviderErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error'
  | 'timeout_error';

/**
 * A failed provider call. `status` is what the client receives when this is the final failure
 * (the provider's own status for HTTP errors; 504 for timeouts, 502 for connection and protocol
 * failures). `message` is the provider's message (never a credential: adapters must not echo keys).
 */
export class ProviderError extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly status: number,
    readonly type: ProviderErrorType,
    message: string,
    readonly options: {
      /** Provider's Retry-After, in ms. */
      readonly retryAfterMs?: number | undefined;
      /** Provider's error code (e.g. "context_length_exceeded"). */
      readonly code?: string | undefined;
      /** Provider's `param`, when it named one. */
      readonly param?: string | undefined;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProviderError';
  }

  get retryAfterMs(): number | undefined {
    return this.options.retryAfterMs;
  }
}

/** The OpenAI error type for an HTTP status, for providers whose bodies do not say. */
export function errorTypeForStatus(status: number): ProviderErrorType {
  if (status === 400 || status === 413 || status === 422) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 529 || status === 503) return 'overloaded_error';
  if (status === 408 || status === 504) return 'timeout_error';
  return 'api_error';
}
