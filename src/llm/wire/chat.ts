/**
 * The canonical chat format inside the gateway: OpenAI's Chat Completions wire shapes. Client
 * formats (OpenAI, Anthropic Messages) translate into it; provider adapters translate out of it and
 * back. Fields the gateway does not interpret are carried through untouched where a provider can use
 * them (`extra`), and dropped otherwise.
 *
 * Reference: https://platform.openai.com/docs/api-reference/chat
 */

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
