/**
 * Google `generateContent` answers and `streamGenerateContent?alt=sse` events → canonical responses
 * and chunks. Shared by the Gemini API and Vertex AI adapters.
 *
 * - text parts are joined (thought summaries left out); `functionCall` parts become tool calls with
 *   generated `call_…` ids (Google's own id when it gives one) and JSON arguments;
 * - finish reasons: STOP → stop (tool_calls when the candidate called a function), MAX_TOKENS →
 *   length, the safety family → content_filter, anything else → stop;
 * - a prompt blocked before generation (`promptFeedback.blockReason`, no candidates) is one empty
 *   choice finished by content_filter;
 * - usage: see {@link usageFromGoogle}.
 */

import { assistantChoice, chatCompletion, chunkFactory, completionId, toolCallId, unixSeconds, usageOf, type ChatChunk, type ChatResponse, type FinishReason, type ToolCall, type Usage } from '../../wire/chat.js';
import type { SseEvent } from '../../wire/sse-parser.js';
import { eventJson, protocolFailure } from '../provider-http.js';
import { ProviderError, errorTypeForStatus } from '../provider.js';
import type { GeminiCandidate, GeminiPart, GeminiResponse, GeminiUsage, GoogleRpcError } from './gemini-wire.js';

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']);

export function finishReasonFromGoogle(reason: string, calledFunction: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (FILTERED.has(reason)) return 'content_filter';
  return calledFunction ? 'tool_calls' : 'stop';
}

/**
 * Google usage → canonical usage. `completion_tokens` includes thinking tokens (`thoughtsTokenCount`,
 * billed as output but not part of `candidatesTokenCount`) so that cost is right; they are also
 * reported as `reasoning_tokens`. `prompt_tokens` includes cached tokens (as Google counts them) and
 * the input built-in tools added (`toolUsePromptTokenCount`, billed as input).
 */
export function usageFromGoogle(u: GeminiUsage): Usage {
  return usageOf({
    input: (u.promptTokenCount ?? 0) + (u.toolUsePromptTokenCount ?? 0),
    output: (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0),
    cachedInput: u.cachedContentTokenCount ?? 0,
    reasoning: u.thoughtsTokenCount ?? 0,
  });
}

/** A `google.rpc.Status` sent in place of a stream event, as a ProviderError with its code as status. */
export function googleStreamError(e: GoogleRpcError | undefined, providerName: string): ProviderError {
  const status = typeof e?.code === 'number' && e.code >= 400 && e.code < 600 ? e.code : 500;
  return new ProviderError('status', status, errorTypeForStatus(status), e?.message || `${providerName} failed mid-stream`, { code: e?.status });
}

function answerText(parts: GeminiPart[]): string {
  let text = '';
  for (const p of parts) if (typeof p.text === 'string' && !p.thought) text += p.text;
  return text;
}

function toolCalls(parts: GeminiPart[]): ToolCall[] {
  const calls: ToolCall[] = [];
  for (const p of parts) {
    if (!p.functionCall) continue;
    const { id, name, args } = p.functionCall;
    calls.push({ id: id || toolCallId(), type: 'function', function: { name, arguments: JSON.stringify(args ?? {}) } });
  }
  return calls;
}

function checkAnswer(r: GeminiResponse, providerName: string): GeminiCandidate[] {
  if (!r || typeof r !== 'object') throw protocolFailure(`${providerName} sent a response that is not an object`);
  const candidates = r.candidates ?? [];
  if (!Array.isArray(candidates)) throw protocolFailure(`${providerName} sent candidates that are not a list`);
  return candidates;
}

/** A canonical chat completion from a `generateContent` answer; `model` is used when Google names none. */
export function chatResponseFromGoogle(r: GeminiResponse, model: string, providerName: string): ChatResponse {
  const candidates = checkAnswer(r, providerName);
  const choices: ChatResponse['choices'] = candidates.map((c, i) => {
    const parts = c.content?.parts ?? [];
    const calls = toolCalls(parts);
    const text = answerText(parts);
    return assistantChoice(text, calls, finishReasonFromGoogle(c.finishReason ?? 'STOP', calls.length > 0), c.index ?? i);
  });
  if (choices.length === 0) {
    if (!r.promptFeedback?.blockReason) throw protocolFailure(`${providerName} sent a response without candidates`);
    choices.push(assistantChoice('', [], 'content_filter'));
  }
  return chatCompletion(r.responseId || completionId(), unixSeconds(), r.modelVersion || model, choices, r.usageMetadata ? usageFromGoogle(r.usageMetadata) : undefined);
}

/**
 * Canonical chunks from `streamGenerateContent?alt=sse` events: per candidate a role chunk first,
 * then text deltas, each function call as one complete tool-call delta (id, name, whole arguments),
 * a finish chunk; after the last event, a usage chunk (empty `choices`) from the last
 * `usageMetadata` seen. An `{"error":…}` event throws a ProviderError, and a stream that ends before
 * any finish reason (or a blocked prompt) a protocol failure.
 */
export async function* chatChunksFromGoogle(events: AsyncIterable<SseEvent>, model: string, providerName: string): AsyncGenerator<ChatChunk> {
  const out = chunkFactory('', unixSeconds(), model);
  let named = false;
  let finished = false;
  const callCounts = new Map<number, number>();
  let usage: GeminiUsage | undefined;
  function* start(index: number): Generator<ChatChunk> {
    if (callCounts.has(index)) return;
    callCounts.set(index, 0);
    yield out.role(index);
  }

  for await (const e of events) {
    const data = eventJson<GeminiResponse & { error?: GoogleRpcError }>(e, providerName);
    if (data && typeof data === 'object' && 'error' in data) throw googleStreamError(data.error, providerName);
    const candidates = checkAnswer(data, providerName);
    if (!named) {
      named = true;
      out.id = data.responseId || completionId();
    }
    if (data.modelVersion) out.model = data.modelVersion;
    if (data.usageMetadata) usage = data.usageMetadata;
    if (candidates.length === 0 && data.promptFeedback?.blockReason) {
      finished = true;
      yield* start(0);
      yield out.finish('content_filter', 0);
    }
    for (const [i, c] of candidates.entries()) {
      const index = c.index ?? i;
      yield* start(index);
      const parts = c.content?.parts ?? [];
      const text = answerText(parts);
      if (text) yield out.content(text, index);
      const calls = toolCalls(parts);
      if (calls.length > 0) {
        const first = callCounts.get(index)!;
        callCounts.set(index, first + calls.length);
        yield out.toolCalls(calls.map((call, k) => ({ index: first + k, ...call })), index);
      }
      if (c.finishReason) {
        finished = true;
        yield out.finish(finishReasonFromGoogle(c.finishReason, callCounts.get(index)! > 0), index);
      }
    }
  }
  if (!finished) throw protocolFailure(`${providerName} ended the stream before a finish reason`);
  if (usage) yield out.usage(usageFromGoogle(usage));
}
