/**
 * Cohere's v2 Chat and Embed APIs (https://docs.cohere.com/reference/chat,
 * https://docs.cohere.com/reference/embed). Canonical requests become Cohere bodies; Cohere replies,
 * SSE stream events (`event: <type>` frames whose JSON repeats the type) and embeddings become
 * canonical shapes. The key travels as `Authorization: Bearer`.
 *
 * Not expressible in Cohere: `n`, `user`, `parallel_tool_calls`, logprobs and other `extra` fields
 * (dropped); a named `tool_choice` becomes REQUIRED with only that tool sent.
 */

import {
  assistantChoice,
  chatCompletion,
  chunkFactory,
  contentText,
  embeddingsList,
  unixSeconds,
  usageOf,
  type ChatChunk,
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  type FinishReason,
  type ToolCall,
  type Usage,
} from '../../wire/chat.js';
import type { SseEvent } from '../../wire/sse-parser.js';
import { bearerHeaders, eventJson, protocolFailure, sendJson, sendSse, type ProviderRequest } from '../provider-http.js';
import { ProviderError, type AttemptIo, type ProviderAdapter, type ProviderTarget } from '../provider.js';
import { commonSampling, defined, functionTools, stopList, toolsForChoice } from '../request-fields.js';

const NAME = 'Cohere';

interface CohereToolCall {
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

interface CohereUsage {
  billed_units?: { input_tokens?: number; output_tokens?: number };
  tokens?: { input_tokens?: number; output_tokens?: number };
}

interface CohereChatResponse {
  id?: string;
  finish_reason?: string;
  message?: { role?: string; content?: Array<{ type?: string; text?: string }>; tool_plan?: string; tool_calls?: CohereToolCall[] };
  usage?: CohereUsage;
}

/** One v2 stream event; which fields are set depends on `type`. */
interface CohereStreamEvent {
  type?: string;
  id?: string;
  index?: number;
  delta?: {
    message?: { content?: { text?: string }; tool_calls?: CohereToolCall | CohereToolCall[] };
    finish_reason?: string;
    usage?: CohereUsage;
    /** Sometimes set with finish reason ERROR. */
    error?: string;
  };
}

interface CohereEmbedResponse {
  id?: string;
  embeddings?: { float?: number[][] };
  meta?: { billed_units?: { input_tokens?: number } };
}

/** User content: a string, or text and image_url blocks (vision models take data and https URLs). */
function userContent(content: ChatMessage['content']): string | Array<Record<string, unknown>> {
  if (content === null || typeof content === 'string') return content ?? '';
  return content.map((p) => (p.type === 'text' ? { type: 'text', text: p.text } : { type: 'image_url', image_url: p.image_url }));
}

function cohereMessage(m: ChatMessage): Record<string, unknown> {
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: contentText(m.content) };
    case 'user':
      return { role: 'user', content: userContent(m.content) };
    case 'tool':
      return { role: 'tool', tool_call_id: m.tool_call_id ?? '', content: contentText(m.content) };
    case 'assistant': {
      const text = contentText(m.content);
      if (!m.tool_calls?.length) return { role: 'assistant', content: text };
      // Text written before tool calls is what Cohere calls the tool plan.
      const out: Record<string, unknown> = {
        role: 'assistant',
        tool_calls: m.tool_calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.function.name, arguments: c.function.arguments } })),
      };
      if (text) out.tool_plan = text;
      return out;
    }
  }
}

function toolFields(req: ChatRequest): Record<string, unknown> {
  const choice = req.tool_choice;
  const tools = toolsForChoice(req);
  if (tools.length === 0) return {};
  const out: Record<string, unknown> = { tools: functionTools(tools) };
  if (choice === 'required' || typeof choice === 'object') out.tool_choice = 'REQUIRED';
  else if (choice === 'none') out.tool_choice = 'NONE';
  if (tools.some((t) => t.function.strict)) out.strict_tools = true;
  return out;
}

/** The v2 chat body for a canonical request. */
export function cohereChatBody(req: ChatRequest, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: req.model,
    messages: req.messages.map(cohereMessage),
    stream,
    ...toolFields(req),
    ...defined({ max_tokens: req.max_completion_tokens ?? req.max_tokens, p: req.top_p, stop_sequences: stopList(req.stop) }),
    ...commonSampling(req),
  };
  const rf = req.response_format;
  if (rf?.type === 'json_object') body.response_format = { type: 'json_object' };
  else if (rf?.type === 'json_schema') body.response_format = rf.json_schema.schema ? { type: 'json_object', json_schema: rf.json_schema.schema } : { type: 'json_object' };
  return body;
}

/** Canonical usage: `tokens` (all processed) when reported, else `billed_units`. */
function usageFrom(u: CohereUsage | undefined): Usage | undefined {
  const counts = u?.tokens ?? u?.billed_units;
  if (!counts) return undefined;
  return usageOf({ input: counts.input_tokens ?? 0, output: counts.output_tokens ?? 0, cachedInput: 0, reasoning: 0 });
}

/** The canonical finish reason; ERROR and TIMEOUT endings throw, since the output is incomplete. */
function finishReason(reason: string | undefined, error?: string): FinishReason {
  switch (reason?.toUpperCase()) {
    case 'MAX_TOKENS':
      return 'length';
    case 'TOOL_CALL':
      return 'tool_calls';
    case 'ERROR':
      throw new ProviderError('status', 500, 'api_error', error || `${NAME} ended the generation with an error`);
    case 'TIMEOUT':
      throw new ProviderError('timeout', 504, 'timeout_error', `${NAME} timed out during the generation`);
    default:
      return 'stop';
  }
}

/** A canonical chat completion from a v2 chat response. */
export function fromCohereResponse(r: CohereChatResponse, model: string, created = unixSeconds()): ChatResponse {
  if (!r || typeof r !== 'object' || !r.message) throw protocolFailure(`${NAME} sent a chat response without a message`);
  const finish = finishReason(r.finish_reason);
  const text = (r.message.content ?? []).map((b) => (b.type === 'text' ? (b.text ?? '') : '')).join('');
  const calls: ToolCall[] = (r.message.tool_calls ?? []).map((c, i) => ({
    id: c.id ?? `call_${i}`,
    type: 'function',
    function: { name: c.function?.name ?? '', arguments: c.function?.arguments || '{}' },
  }));
  return chatCompletion(r.id ?? '', created, model, [assistantChoice(text, calls, finish)], usageFrom(r.usage));
}

/**
 * Canonical chunks from v2 stream events: a role chunk on message-start, text deltas, tool call
 * fragments numbered in arrival order, the finish chunk and a usage chunk (choices empty) on
 * message-end. A stream that ends before message-end, or with finish reason ERROR, throws.
 */
export async function* cohereChunks(events: AsyncIterable<SseEvent>, model: string): AsyncGenerator<ChatChunk> {
  const out = chunkFactory('', unixSeconds(), model);
  let tool = -1;
  for await (const e of events) {
    const data = eventJson<CohereStreamEvent>(e, NAME);
    const calls = data.delta?.message?.tool_calls;
    const call = Array.isArray(calls) ? calls[0] : calls;
    switch (data.type ?? e.event) {
      case 'message-start':
        out.id = data.id ?? out.id;
        yield out.role();
        break;
      case 'content-delta': {
        const text = data.delta?.message?.content?.text;
        if (text) yield out.content(text);
        break;
      }
      case 'tool-call-start':
        tool++;
        yield out.toolCallStart(tool, call?.id, call?.function?.name ?? '', call?.function?.arguments ?? '');
        break;
      case 'tool-call-delta': {
        const args = call?.function?.arguments;
        if (args) yield out.toolCallArguments(Math.max(tool, 0), args);
        break;
      }
      case 'message-end': {
        yield out.finish(finishReason(data.delta?.finish_reason, data.delta?.error));
        const usage = usageFrom(data.delta?.usage);
        if (usage) yield out.usage(usage);
        return;
      }
      default:
      // content-start/-end, tool-plan-delta, tool-call-end, citation-*, debug: nothing for the client.
    }
  }
  throw protocolFailure(`${NAME} ended the stream before message-end`);
}

function embedTexts(input: EmbeddingsRequest['input']): string[] {
  const list = Array.isArray(input) ? input : [input];
  if (list.every((x): x is string => typeof x === 'string')) return list;
  throw new ProviderError('status', 400, 'invalid_request_error', `${NAME} embeds text only, not token arrays`);
}

/** The v2 chat call for a canonical request. */
function chatCall(req: ChatRequest, target: ProviderTarget, stream: boolean): ProviderRequest {
  return { url: `${target.baseUrl}/v2/chat`, headers: bearerHeaders(target), body: cohereChatBody(req, stream) };
}

/** The `cohere` provider type: stateless, safe for concurrent use; every failure is a ProviderError. */
export const cohereAdapter: ProviderAdapter = {
  type: 'cohere',
  defaultBaseUrl: () => 'https://api.cohere.com',
  async chat(req: ChatRequest, target: ProviderTarget, io: AttemptIo): Promise<ChatResponse> {
    return fromCohereResponse(await sendJson<CohereChatResponse>(target, io, chatCall(req, target, false), NAME), req.model);
  },
  async chatStream(req: ChatRequest, target: ProviderTarget, io: AttemptIo): Promise<AsyncIterable<ChatChunk>> {
    return cohereChunks(await sendSse(target, io, chatCall(req, target, true), NAME), req.model);
  },
  async embeddings(req: EmbeddingsRequest, target: ProviderTarget, io: AttemptIo): Promise<EmbeddingsResponse> {
    const body: Record<string, unknown> = { model: req.model, texts: embedTexts(req.input), input_type: 'search_document', embedding_types: ['float'] };
    if (req.dimensions !== undefined) body.output_dimension = req.dimensions;
    const r = await sendJson<CohereEmbedResponse>(target, io, { url: `${target.baseUrl}/v2/embed`, headers: bearerHeaders(target), body }, NAME);
    const vectors = r?.embeddings?.float;
    if (!Array.isArray(vectors)) throw protocolFailure(`${NAME} sent an embed response without float embeddings`);
    return embeddingsList(vectors, req.model, r.meta?.billed_units?.input_tokens ?? 0);
  },
};
