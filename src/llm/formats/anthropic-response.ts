/**
 * Canonical answers → what Anthropic SDK clients expect from POST /v1/messages: the `message` object,
 * message ids, and `{"type":"error","error":{type,message}}` error bodies.
 */

import { anthropicErrorType, anthropicUsageOf, blocksOfContent, stopReasonOf } from '../providers/anthropic/anthropic-mapping.js';
import type { AnthropicErrorBody, AnthropicMessage } from '../providers/anthropic/anthropic-wire.js';
import type { ChatResponse, Usage } from '../wire/chat.js';

/** Reported when the provider reported no usage. */
export const NO_USAGE: Usage = Object.freeze({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });

/** A message id (`msg_…`) for a canonical completion id: Anthropic ids are kept, others get the prefix (OpenAI's `chatcmpl-` dropped). */
export function anthropicMessageId(canonicalId: string): string {
  return canonicalId.startsWith('msg_') ? canonicalId : `msg_${canonicalId.replace(/^chatcmpl-/, '')}`;
}

/**
 * A chat completion as an Anthropic `message` named `model` (the model the client asked for). Text
 * (and a refusal, as text) then tool calls become content blocks; tool call arguments that are not a
 * JSON object become `{}`. The first choice is the answer; Anthropic has no `n`.
 */
export function canonicalToAnthropicResponse(r: ChatResponse, model: string): AnthropicMessage {
  const choice = r.choices[0];
  const msg = choice?.message;
  const text = (msg?.content ?? '') + (msg?.refusal ?? '');
  const stop = msg?.refusal ? 'refusal' : stopReasonOf(choice?.finish_reason);
  return {
    id: anthropicMessageId(r.id),
    type: 'message',
    role: 'assistant',
    model,
    content: blocksOfContent(text, msg?.tool_calls),
    stop_reason: stop,
    stop_sequence: null,
    usage: anthropicUsageOf(r.usage ?? NO_USAGE),
  };
}

/** An Anthropic error body for a status (type from the status: 429 → rate_limit_error, 529/503 → overloaded_error…), serialised. */
export function anthropicErrorBody(status: number, message: string): string {
  const body: AnthropicErrorBody = { type: 'error', error: { type: anthropicErrorType(status), message } };
  return JSON.stringify(body);
}
