/**
 * The correspondences between Anthropic's Messages API and the canonical chat format, each written
 * once and read in both directions: by the provider adapter (canonical → Anthropic → canonical) and
 * by the client-facing Anthropic format (Anthropic → canonical → Anthropic). Pure functions.
 */

import type { ChatMessage, ContentPart, FinishReason, ToolCall, ToolChoice, ToolDefinition, Usage } from '../../wire/chat.js';
import { toolParameters } from '../request-fields.js';
import type {
  AnthropicContentBlock,
  AnthropicImageBlock,
  AnthropicImageSource,
  AnthropicStopReason,
  AnthropicTextBlock,
  AnthropicTool,
  AnthropicToolChoice,
  AnthropicToolUseBlock,
  AnthropicUsage,
} from './anthropic-wire.js';

/** Stop reasons → finish reasons. `pause_turn` (a server tool paused the turn) ends the answer as far as a client can tell. */
const STOP_TO_FINISH: Readonly<Record<AnthropicStopReason, FinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/** Finish reasons → stop reasons (the first stop reason of each finish reason above). */
const FINISH_TO_STOP: Readonly<Record<FinishReason, AnthropicStopReason>> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

/** An Anthropic stop reason as a finish reason; unknown or absent reasons are 'stop'. */
export function finishReasonOf(stop: string | null | undefined): FinishReason {
  return STOP_TO_FINISH[stop as AnthropicStopReason] ?? 'stop';
}

/** A finish reason as an Anthropic stop reason; an absent one is `end_turn`. */
export function stopReasonOf(finish: FinishReason | null | undefined): AnthropicStopReason {
  return finish ? FINISH_TO_STOP[finish] : 'end_turn';
}

/**
 * Anthropic's error types with the status each travels with (https://docs.anthropic.com/en/api/errors).
 * Read status → type for error bodies the gateway writes, type → status for in-stream error events.
 */
const ERROR_TYPES: ReadonlyArray<readonly [number, string]> = [
  [400, 'invalid_request_error'],
  [401, 'authentication_error'],
  [402, 'billing_error'],
  [403, 'permission_error'],
  [404, 'not_found_error'],
  [413, 'request_too_large'],
  [429, 'rate_limit_error'],
  [500, 'api_error'],
  [504, 'timeout_error'],
  [529, 'overloaded_error'],
];

/**
 * The Anthropic error type a client receives for a status. Other 4xx are `invalid_request_error`
 * (as the API does); 503 is `overloaded_error` (capacity, like 529); other 5xx are `api_error`.
 */
export function anthropicErrorType(status: number): string {
  if (status === 503) return 'overloaded_error';
  const known = ERROR_TYPES.find(([s]) => s === status);
  if (known) return known[1];
  return status >= 400 && status < 500 ? 'invalid_request_error' : 'api_error';
}

/** The status of an Anthropic error type (from an in-stream `error` event); unknown types are 500. */
export function statusOfAnthropicError(type: string | undefined): number {
  return ERROR_TYPES.find(([, t]) => t === type)?.[0] ?? 500;
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

/**
 * An image URL as an Anthropic image source: a base64 `data:` URL becomes a base64 source, anything
 * else a URL source (Anthropic fetches https URLs itself and rejects what it cannot read).
 */
export function imageSourceOf(url: string): AnthropicImageSource {
  const m = DATA_URL.exec(url);
  return m ? { type: 'base64', media_type: m[1]!, data: m[2]! } : { type: 'url', url };
}

/** An Anthropic image source as a canonical image URL (base64 sources become `data:` URLs). */
export function imageUrlOf(source: AnthropicImageSource): string {
  return source.type === 'base64' ? `data:${source.media_type};base64,${source.data}` : source.url;
}

/** A canonical content part as an Anthropic block; empty text parts (which Anthropic rejects) become undefined. */
export function blockOfPart(part: ContentPart): AnthropicTextBlock | AnthropicImageBlock | undefined {
  if (part.type === 'image_url') return { type: 'image', source: imageSourceOf(part.image_url.url) };
  return part.text ? { type: 'text', text: part.text } : undefined;
}

/** An Anthropic text or image block as a canonical content part. */
export function partOfBlock(block: AnthropicTextBlock | AnthropicImageBlock): ContentPart {
  return block.type === 'text' ? { type: 'text', text: block.text } : { type: 'image_url', image_url: { url: imageUrlOf(block.source) } };
}

/** A tool call as a `tool_use` block. Arguments that are not a JSON object become `{}` (Anthropic requires an object). */
export function toolUseOf(call: ToolCall): AnthropicToolUseBlock {
  let input: unknown;
  try {
    input = JSON.parse(call.function.arguments || '{}');
  } catch {
    input = {};
  }
  const obj = input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
  return { type: 'tool_use', id: call.id, name: call.function.name, input: obj };
}

/** A `tool_use` block as a tool call (arguments are the input serialised). */
export function toolCallOf(block: AnthropicToolUseBlock): ToolCall {
  return { id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } };
}

/**
 * Canonical message content and tool calls as Anthropic blocks: text and images in order, then one
 * `tool_use` block per call. Empty text (which Anthropic rejects) is left out, so the result may be empty.
 */
export function blocksOfContent(content: ChatMessage['content'], calls: readonly ToolCall[] = []): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] = [];
  if (typeof content === 'string') {
    if (content) blocks.push({ type: 'text', text: content });
  } else if (content) {
    for (const p of content) {
      const b = blockOfPart(p);
      if (b) blocks.push(b);
    }
  }
  for (const call of calls) blocks.push(toolUseOf(call));
  return blocks;
}

/**
 * Anthropic assistant blocks as canonical assistant content: text blocks joined, `tool_use` blocks as
 * tool calls, other blocks (thinking) read past. Content is null when there are only tool calls.
 */
export function assistantContentOf(blocks: readonly AnthropicContentBlock[]): { content: string | null; tool_calls?: ToolCall[] } {
  let text = '';
  const calls: ToolCall[] = [];
  for (const b of blocks) {
    if (b.type === 'text') text += b.text;
    else if (b.type === 'tool_use') calls.push(toolCallOf(b));
  }
  return calls.length ? { content: text || null, tool_calls: calls } : { content: text };
}

export function anthropicToolOf(def: ToolDefinition): AnthropicTool {
  const tool: AnthropicTool = { name: def.function.name, input_schema: toolParameters(def) };
  if (def.function.description !== undefined) tool.description = def.function.description;
  return tool;
}

export function toolDefinitionOf(tool: AnthropicTool): ToolDefinition {
  const fn: ToolDefinition['function'] = { name: tool.name, parameters: tool.input_schema };
  if (tool.description !== undefined) fn.description = tool.description;
  return { type: 'function', function: fn };
}

/**
 * The Anthropic tool choice for a canonical one (`required` is `any`, a named function is `tool`);
 * `parallel_tool_calls: false` becomes `disable_parallel_tool_use` (on `auto` when no choice is given).
 * Undefined when neither is set.
 */
export function anthropicToolChoiceOf(choice: ToolChoice | undefined, parallel: boolean | undefined): AnthropicToolChoice | undefined {
  if (choice === 'none') return { type: 'none' };
  if (choice === undefined && parallel !== false) return undefined;
  const disable = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === 'required') return { type: 'any', ...disable };
  if (typeof choice === 'object') return { type: 'tool', name: choice.function.name, ...disable };
  return { type: 'auto', ...disable };
}

/** The canonical tool choice and parallel-call flag for an Anthropic tool choice. */
export function toolChoiceOf(choice: AnthropicToolChoice): { tool_choice: ToolChoice; parallel_tool_calls?: boolean } {
  const tool_choice: ToolChoice = choice.type === 'none' ? 'none' : choice.type === 'any' ? 'required' : choice.type === 'tool' ? { type: 'function', function: { name: choice.name } } : 'auto';
  return choice.type !== 'none' && choice.disable_parallel_tool_use ? { tool_choice, parallel_tool_calls: false } : { tool_choice };
}

/** Anthropic usage as canonical usage: prompt tokens include the cache reads and writes; cached tokens are the reads. */
export function usageOfAnthropic(u: AnthropicUsage): Usage {
  const read = u.cache_read_input_tokens ?? 0;
  const prompt = (u.input_tokens ?? 0) + read + (u.cache_creation_input_tokens ?? 0);
  const output = u.output_tokens ?? 0;
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output };
  if (read > 0) usage.prompt_tokens_details = { cached_tokens: read };
  return usage;
}

/**
 * Canonical usage as Anthropic usage: `input_tokens` is the prompt less the cached tokens. Cache
 * writes are not told apart in canonical usage, so they count as input and `cache_creation_input_tokens` is 0.
 */
export function anthropicUsageOf(u: Usage): Required<AnthropicUsage> {
  const read = u.prompt_tokens_details?.cached_tokens ?? 0;
  return { input_tokens: Math.max(0, u.prompt_tokens - read), output_tokens: u.completion_tokens, cache_creation_input_tokens: 0, cache_read_input_tokens: read };
}
