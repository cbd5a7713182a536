/**
 * The Anthropic provider adapter: the canonical chat format over Anthropic's Messages API
 * (POST /v1/messages, `x-api-key`, `anthropic-version: 2023-06-01`). Requests are translated here,
 * streams in anthropic-stream-reader.ts; the correspondences both use live in anthropic-mapping.ts.
 */

import { chatCompletion, contentText, unixSeconds, type ChatChunk, type ChatMessage, type ChatRequest, type ChatResponse, type ResponseFormat } from '../../wire/chat.js';
import { protocolFailure, sendJson, sendSse, type ProviderRequest } from '../provider-http.js';
import type { AttemptIo, ProviderAdapter, ProviderTarget } from '../provider.js';
import { stopList } from '../request-fields.js';
import { anthropicToolChoiceOf, anthropicToolOf, assistantContentOf, blockOfPart, blocksOfContent, finishReasonOf, usageOfAnthropic } from './anthropic-mapping.js';
import { anthropicChunks } from './anthropic-stream-reader.js';
import { ANTHROPIC_VERSION, type AnthropicContentBlock, type AnthropicMessage, type AnthropicMessageParam, type AnthropicRequestBody, type AnthropicToolResultBlock } from './anthropic-wire.js';

const NAME = 'Anthropic';

/** Anthropic requires `max_tokens`; this is sent when the request sets no limit. */
export const DEFAULT_MAX_TOKENS = 4096;

/**
 * The instruction that stands in for `response_format`. Anthropic's Messages API (2023-06-01) has no
 * JSON mode or response schema that works across models, so the request asks for JSON in the system
 * prompt instead; the answer is not validated against the schema.
 */
function formatInstruction(format: ResponseFormat | undefined): string | undefined {
  if (!format || format.type === 'text') return undefined;
  const only = 'Respond with a single JSON object and nothing else: no prose, no code fences.';
  if (format.type === 'json_object' || !format.json_schema.schema) return only;
  return `${only} The object must conform to this JSON schema:\n${JSON.stringify(format.json_schema.schema)}`;
}

/** One canonical message as Anthropic content blocks (tool messages become `tool_result` blocks). */
function blocksOf(m: ChatMessage): AnthropicContentBlock[] {
  if (m.role !== 'tool') return blocksOfContent(m.content, m.tool_calls);
  const result: AnthropicToolResultBlock = { type: 'tool_result', tool_use_id: m.tool_call_id ?? '' };
  if (typeof m.content === 'string') result.content = m.content;
  else if (m.content) result.content = m.content.flatMap((p) => blockOfPart(p) ?? []);
  return [result];
}

/**
 * The Anthropic request body for a canonical request. System and developer messages (wherever they
 * stand) become `system`; tool results become user turns; consecutive turns of one role merge into one
 * message (Anthropic wants tool results of one assistant turn together, before any user text).
 * Messages left without content are dropped. Fields Anthropic lacks (n, seed, penalties, `extra`) are dropped.
 */
export function anthropicRequestBody(req: ChatRequest, stream: boolean): AnthropicRequestBody {
  const system: string[] = [];
  const messages: AnthropicMessageParam[] = [];
  for (const m of req.messages) {
    if (m.role === 'system' || m.role === 'developer') {
      const text = contentText(m.content);
      if (text) system.push(text);
      continue;
    }
    const blocks = blocksOf(m);
    if (blocks.length === 0) continue;
    const role = m.role === 'assistant' ? 'assistant' : 'user';
    const last = messages[messages.length - 1];
    if (last?.role === role) (last.content as AnthropicContentBlock[]).push(...blocks);
    else messages.push({ role, content: blocks });
  }
  const instruction = formatInstruction(req.response_format);
  if (instruction) system.push(instruction);

  const body: AnthropicRequestBody = { model: req.model, max_tokens: req.max_completion_tokens ?? req.max_tokens ?? DEFAULT_MAX_TOKENS, messages };
  if (system.length > 0) body.system = system.join('\n\n');
  if (req.stop !== undefined) body.stop_sequences = stopList(req.stop);
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.top_p !== undefined) body.top_p = req.top_p;
  if (req.tools?.length) {
    body.tools = req.tools.map(anthropicToolOf);
    const choice = anthropicToolChoiceOf(req.tool_choice, req.parallel_tool_calls);
    if (choice) body.tool_choice = choice;
  }
  if (req.user) body.metadata = { user_id: req.user };
  if (stream) body.stream = true;
  return body;
}

/** An Anthropic `message` as a chat completion. */
export function chatResponseOf(m: AnthropicMessage, created = unixSeconds()): ChatResponse {
  const message: ChatResponse['choices'][number]['message'] = { role: 'assistant', ...assistantContentOf(m.content), refusal: null };
  return chatCompletion(m.id, created, m.model, [{ index: 0, message, finish_reason: finishReasonOf(m.stop_reason) }], m.usage ? usageOfAnthropic(m.usage) : undefined);
}

/** The Messages API call for a canonical request: POST /v1/messages with the key in `x-api-key`. */
function messagesCall(req: ChatRequest, target: ProviderTarget, stream: boolean): ProviderRequest {
  const headers: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION };
  if (target.apiKey) headers['x-api-key'] = target.apiKey;
  return { url: `${target.baseUrl}/v1/messages`, headers, body: anthropicRequestBody(req, stream) };
}

export const anthropicAdapter: ProviderAdapter = {
  type: 'anthropic',
  defaultBaseUrl: () => 'https://api.anthropic.com',
  async chat(req: ChatRequest, target: ProviderTarget, io: AttemptIo): Promise<ChatResponse> {
    const m = await sendJson<AnthropicMessage>(target, io, messagesCall(req, target, false), NAME);
    if (!m || typeof m !== 'object' || m.type !== 'message' || !Array.isArray(m.content)) throw protocolFailure(`${NAME} sent a response that is not a message`);
    return chatResponseOf(m);
  },
  async chatStream(req: ChatRequest, target: ProviderTarget, io: AttemptIo): Promise<AsyncIterable<ChatChunk>> {
    return anthropicChunks(await sendSse(target, io, messagesCall(req, target, true), NAME), NAME);
  },
};
