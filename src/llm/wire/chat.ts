/**
 * The canonical chat format inside the gateway: OpenAI's Chat Completions wire shapes. Client
 * formats (OpenAI, Anthropic Messages) translate into it; provider adapters translate out of it and
 * back. Fields the gateway does not interpret are carried through untouched where a provider can use
 * them (`extra`), and dropped otherwise. Also the builders adapters share to make these shapes: ids,
 * completions, stream chunks ({@link chunkFactory}) and embeddings lists.
 *
 * Reference: https://platform.openai.com/docs/api-reference/chat
 */

import { randomBytes } from 'node:crypto';

export type Role = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

export interface TextPart {
  type: 'text';
  text: string;
}

export interface ImagePart {
  type: 'image_url';
  /** An https URL or a `data:<media type>;base64,<data>` URL. */
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}

export type ContentPart = TextPart | ImagePart;

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: Role;
  /** A string, parts, or null (an assistant message holding only tool calls). */
  content: string | ContentPart[] | null;
  name?: string;
  /** Assistant messages: the tool calls it made. */
  tool_calls?: ToolCall[];
  /** Tool messages: the call this answers. */
  tool_call_id?: string;
}

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean } };

/** A chat request after validation. `model` is the upstream model id once routing has resolved it. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  n?: number;
  stop?: string | string[];
  presence_penalty?: number;
  frequency_penalty?: number;
  seed?: number;
  user?: string;
  tools?: ToolDefinition[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: ResponseFormat;
  /** Other OpenAI fields (logprobs, reasoning_effort, metadata…): forwarded to OpenAI-compatible providers only. */
  extra?: Record<string, unknown>;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
}

export interface ChatChoice {
  index: number;
  message: { role: 'assistant'; content: string | null; tool_calls?: ToolCall[]; refusal?: string | null };
  finish_reason: FinishReason | null;
  logprobs?: unknown;
}

export interface ChatResponse {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatChoice[];
  usage?: Usage;
  system_fingerprint?: string | null;
}

/** A streamed tool call fragment: `id` and `function.name` arrive on the first fragment of a call, `arguments` in pieces. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChunkChoice {
  index: number;
  delta: { role?: 'assistant'; content?: string | null; tool_calls?: ToolCallDelta[]; refusal?: string | null };
  finish_reason: FinishReason | null;
  logprobs?: unknown;
}

export interface ChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChunkChoice[];
  /** Present on the final usage chunk (whose `choices` is empty), when usage was asked for. */
  usage?: Usage | null;
  system_fingerprint?: string | null;
}

export interface EmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
}

export interface EmbeddingsResponse {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** Usage with every optional count made explicit (zero when unknown). */
export interface TokenCounts {
  input: number;
  output: number;
  cachedInput: number;
  reasoning: number;
}

export function tokenCounts(u: Usage | null | undefined): TokenCounts | undefined {
  if (!u) return undefined;
  return {
    input: u.prompt_tokens ?? 0,
    output: u.completion_tokens ?? 0,
    cachedInput: u.prompt_tokens_details?.cached_tokens ?? 0,
    reasoning: u.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

export function usageOf(c: TokenCounts): Usage {
  const u: Usage = { prompt_tokens: c.input, completion_tokens: c.output, total_tokens: c.input + c.output };
  if (c.cachedInput > 0) u.prompt_tokens_details = { cached_tokens: c.cachedInput };
  if (c.reasoning > 0) u.completion_tokens_details = { reasoning_tokens: c.reasoning };
  return u;
}

/** The text of a message's content (text parts joined), for token estimates and providers without parts. */
export function contentText(content: ChatMessage['content']): string {
  if (content === null) return '';
  if (typeof content === 'string') return content;
  let out = '';
  for (const p of content) if (p.type === 'text') out += p.text;
  return out;
}

/**
 * A choice holding an assistant message with `text` and `calls`. Content is null when there are tool
 * calls and no text, and `tool_calls` is present only when there are calls.
 */
export function assistantChoice(text: string, calls: ToolCall[], finish: FinishReason | null, index = 0): ChatChoice {
  const message: ChatChoice['message'] = { role: 'assistant', content: text || (calls.length > 0 ? null : '') };
  if (calls.length > 0) message.tool_calls = calls;
  return { index, message, finish_reason: finish };
}

/** A chat completion; `usage` is set only when given (the provider reported it). */
export function chatCompletion(id: string, created: number, model: string, choices: ChatChoice[], usage?: Usage): ChatResponse {
  const r: ChatResponse = { id, object: 'chat.completion', created, model, choices };
  if (usage) r.usage = usage;
  return r;
}

/** A fresh completion id in OpenAI's shape (`chatcmpl-` and 24 hex digits), for providers that give none. */
export function completionId(): string {
  return `chatcmpl-${randomBytes(12).toString('hex')}`;
}

/** A fresh tool call id (`call_` and 24 hex digits), for providers that give none. */
export function toolCallId(): string {
  return `call_${randomBytes(12).toString('hex')}`;
}

/** The current time in whole seconds since the epoch, as `created` fields carry it. */
export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Makes the chunks of one streamed completion. `id`, `created` and `model` may be changed once the
 * provider names them (a stream's first event); each chunk takes the values current when it is made.
 * Every helper but {@link ChunkFactory.usage} makes a chunk with one choice (`choice`, default 0).
 */
export interface ChunkFactory {
  id: string;
  created: number;
  model: string;
  /** A chunk with this delta and finish reason. */
  delta(delta: ChunkChoice['delta'], finish?: FinishReason | null, choice?: number): ChatChunk;
  /** The opening chunk: `{role: 'assistant', content: ''}`. */
  role(choice?: number): ChatChunk;
  /** A text delta. */
  content(text: string, choice?: number): ChatChunk;
  /** Tool call fragments. */
  toolCalls(calls: ToolCallDelta[], choice?: number): ChatChunk;
  /** The first fragment of tool call `index`: its id, name and (usually empty) first arguments. */
  toolCallStart(index: number, id: string | undefined, name: string, args?: string): ChatChunk;
  /** A further arguments fragment of tool call `index`. */
  toolCallArguments(index: number, args: string): ChatChunk;
  /** The finish chunk: an empty delta with the finish reason. */
  finish(reason: FinishReason, choice?: number): ChatChunk;
  /** The usage chunk: no choices, only usage (sent last). */
  usage(usage: Usage): ChatChunk;
}

/** A {@link ChunkFactory}; by default with a fresh completion id, the current time and no model yet. */
export function chunkFactory(id: string = completionId(), created: number = unixSeconds(), model = ''): ChunkFactory {
  const f: ChunkFactory = {
    id,
    created,
    model,
    delta: (delta, finish = null, choice = 0) => ({ id: f.id, object: 'chat.completion.chunk', created: f.created, model: f.model, choices: [{ index: choice, delta, finish_reason: finish }] }),
    role: (choice) => f.delta({ role: 'assistant', content: '' }, null, choice),
    content: (text, choice) => f.delta({ content: text }, null, choice),
    toolCalls: (calls, choice) => f.delta({ tool_calls: calls }, null, choice),
    toolCallStart: (index, callId, name, args = '') => f.toolCalls([{ index, id: callId, type: 'function', function: { name, arguments: args } }]),
    toolCallArguments: (index, args) => f.toolCalls([{ index, function: { arguments: args } }]),
    finish: (reason, choice) => f.delta({}, reason, choice),
    usage: (usage) => ({ id: f.id, object: 'chat.completion.chunk', created: f.created, model: f.model, choices: [], usage }),
  };
  return f;
}

/** OpenAI's base64 embedding encoding: the vector as little-endian float32s. */
export function base64Embedding(values: readonly number[]): string {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString('base64');
}

/**
 * The canonical embeddings answer for vectors in input order. With `encoding` 'base64' each vector is
 * sent as {@link base64Embedding}; otherwise as numbers.
 */
export function embeddingsList(vectors: readonly number[][], model: string, promptTokens: number, encoding: EmbeddingsRequest['encoding_format'] = 'float'): EmbeddingsResponse {
  return {
    object: 'list',
    data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: encoding === 'base64' ? base64Embedding(v) : v })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}
