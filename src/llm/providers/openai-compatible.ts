/**
 * The shared OpenAI-compatible adapter. OpenAI, Azure OpenAI, Mistral, Groq, Together, DeepSeek,
 * OpenRouter, vLLM and the llama.cpp server all speak this wire format; each is a {@link CompatProfile}
 * (default base URL, how the key is sent, URL layout, quirks), and a provider object of type
 * `openai-compatible` takes any base URL, so adding such a host is configuration, not code.
 */

import type { ChatChunk, ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse } from '../wire/chat.js';
import type { SseEvent } from '../wire/sse-parser.js';
import { bearerHeaders, eventJson, protocolFailure, sendJson, sendSse } from './provider-http.js';
import { ProviderError, errorTypeForStatus, type AttemptIo, type ProviderAdapter, type ProviderTarget } from './provider.js';

export interface CompatProfile {
  readonly type: string;
  /** Shown in error messages ("OpenAI answered 500"). */
  readonly displayName: string;
  /** Used when the provider object gives no `baseUrl`; undefined makes `baseUrl` required. */
  readonly defaultBaseUrl: string | undefined;
  /** How the key travels: `Authorization: Bearer` (default) or Azure's `api-key` header. */
  readonly auth?: 'bearer' | 'api-key';
  /** URL of an operation ("chat/completions", "embeddings"); default `${baseUrl}/${path}`. */
  readonly url?: (target: ProviderTarget, path: 'chat/completions' | 'embeddings') => string;
  /** Whether the host honours `stream_options.include_usage` (default true); without it, usage is estimated. */
  readonly streamUsage?: boolean;
  /** Provider options this profile requires (checked when config is applied). */
  readonly requiredOptions?: readonly string[];
  /** Whether a key is required; local servers run without one. Default true. */
  readonly keyRequired?: boolean;
}

/** The body sent upstream: the canonical request with `extra` fields merged in. */
function upstreamBody(req: ChatRequest, stream: boolean, profile: CompatProfile): Record<string, unknown> {
  const { extra, ...rest } = req;
  const body: Record<string, unknown> = { ...extra, ...rest, stream };
  if (stream) {
    if (profile.streamUsage === false) delete body.stream_options;
    else body.stream_options = { ...req.stream_options, include_usage: true };
  } else delete body.stream_options;
  return body;
}

function authHeaders(target: ProviderTarget, profile: CompatProfile): Record<string, string> {
  if (profile.auth === 'api-key') return target.apiKey ? { 'api-key': target.apiKey } : {};
  return bearerHeaders(target);
}

function urlOf(target: ProviderTarget, profile: CompatProfile, path: 'chat/completions' | 'embeddings'): string {
  return profile.url ? profile.url(target, path) : `${target.baseUrl}/${path}`;
}

function checkResponse(body: unknown, name: string): ChatResponse {
  const r = body as ChatResponse;
  if (!r || typeof r !== 'object' || !Array.isArray(r.choices)) throw protocolFailure(`${name} sent a chat completion without choices`);
  r.object = 'chat.completion';
  return r;
}

/** A mid-stream `{"error":{…}}` event (OpenAI and most compatible hosts send one before closing). */
function streamError(data: Record<string, unknown>, name: string): ProviderError {
  const e = data.error as { message?: string; type?: string; code?: string | number } | string;
  const message = typeof e === 'string' ? e : (e?.message ?? `${name} failed mid-stream`);
  const status = typeof e === 'object' && typeof e?.code === 'number' ? e.code : 500;
  return new ProviderError('status', status, errorTypeForStatus(status), message, { code: typeof e === 'object' && typeof e?.code === 'string' ? e.code : undefined });
}

/**
 * The stream's chunks. `data: [DONE]` ends it; a stream that ends without it is complete only if a
 * finish reason was sent (some hosts omit [DONE]), and is otherwise a protocol failure (502).
 */
async function* chunks(events: AsyncIterable<SseEvent>, name: string): AsyncGenerator<ChatChunk> {
  let finished = false;
  for await (const e of events) {
    if (e.data === '[DONE]') return;
    if (e.event === 'error') throw streamError(eventJson<Record<string, unknown>>(e, name), name);
    const data = eventJson<Record<string, unknown>>(e, name);
    if (data.error) throw streamError(data, name);
    const chunk = data as unknown as ChatChunk;
    if (!Array.isArray(chunk.choices)) chunk.choices = [];
    // Azure sends a prompt-filter chunk first: no choices, no usage, no id. Nothing for the client.
    if (chunk.choices.length === 0 && !chunk.usage) continue;
    if (chunk.choices.some((c) => c.finish_reason)) finished = true;
    chunk.object = 'chat.completion.chunk';
    yield chunk;
  }
  if (!finished) throw protocolFailure(`${name} ended the stream before the completion was finished`);
}

export function openAiCompatibleAdapter(profile: CompatProfile): ProviderAdapter {
  const name = profile.displayName;
  return {
    type: profile.type,
    defaultBaseUrl: () => profile.defaultBaseUrl,
    requiredOptions: profile.requiredOptions,
    keyRequired: profile.keyRequired ?? true,
    async chat(req: ChatRequest, target: ProviderTarget, io: AttemptIo): Promise<ChatResponse> {
      const body = await sendJson<unknown>(target, io, { url: urlOf(target, profile, 'chat/completions'), headers: authHeaders(target, profile), body: upstreamBody(req, false, profile) }, name);
      return checkResponse(body, name);
    },
    async chatStream(req: ChatRequest, target: ProviderTarget, io: AttemptIo): Promise<AsyncIterable<ChatChunk>> {
      const events = await sendSse(target, io, { url: urlOf(target, profile, 'chat/completions'), headers: authHeaders(target, profile), body: upstreamBody(req, true, profile) }, name);
      return chunks(events, name);
    },
    async embeddings(req: EmbeddingsRequest, target: ProviderTarget, io: AttemptIo): Promise<EmbeddingsResponse> {
      const body = await sendJson<EmbeddingsResponse>(target, io, { url: urlOf(target, profile, 'embeddings'), headers: authHeaders(target, profile), body: req }, name);
      if (!body || !Array.isArray(body.data)) throw protocolFailure(`${name} sent an embeddings response without data`);
      return body;
    },
  };
}

/** Azure OpenAI: deployments in the URL, `api-version` in the query, the key in `api-key`. */
function azureUrl(target: ProviderTarget, path: 'chat/completions' | 'embeddings'): string {
  const version = encodeURIComponent(target.options.apiVersion ?? '2024-10-21');
  return `${target.baseUrl}/openai/deployments/${encodeURIComponent(target.model)}/${path}?api-version=${version}`;
}

/** The built-in OpenAI-compatible profiles. */
export const COMPAT_PROFILES: readonly CompatProfile[] = [
  { type: 'openai', displayName: 'OpenAI', defaultBaseUrl: 'https://api.openai.com/v1' },
  { type: 'azure-openai', displayName: 'Azure OpenAI', defaultBaseUrl: undefined, auth: 'api-key', url: azureUrl },
  { type: 'mistral', displayName: 'Mistral', defaultBaseUrl: 'https://api.mistral.ai/v1' },
  { type: 'groq', displayName: 'Groq', defaultBaseUrl: 'https://api.groq.com/openai/v1' },
  { type: 'together', displayName: 'Together', defaultBaseUrl: 'https://api.together.xyz/v1' },
  { type: 'deepseek', displayName: 'DeepSeek', defaultBaseUrl: 'https://api.deepseek.com/v1' },
  { type: 'openrouter', displayName: 'OpenRouter', defaultBaseUrl: 'https://openrouter.ai/api/v1' },
  { type: 'vllm', displayName: 'vLLM', defaultBaseUrl: undefined, keyRequired: false },
  { type: 'llamacpp', displayName: 'llama.cpp', defaultBaseUrl: undefined, keyRequired: false },
  { type: 'openai-compatible', displayName: 'The provider', defaultBaseUrl: undefined, keyRequired: false },
];
