/**
 * Canonical chat requests → Bedrock Converse request bodies (the same body serves Converse and
 * ConverseStream).
 *
 * Reference: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 */

import { contentText, type ChatMessage, type ChatRequest, type ResponseFormat, type ToolCall } from '../../wire/chat.js';
import { ProviderError } from '../provider.js';
import { defined, stopList, toolParameters } from '../request-fields.js';

type Block = Record<string, unknown>;
interface ConverseMessage {
  role: 'user' | 'assistant';
  content: Block[];
}

/** Whether `v` is a JSON object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const invalid = (message: string, param?: string): ProviderError => new ProviderError('status', 400, 'invalid_request_error', message, { param });

const IMAGE_FORMATS: Readonly<Record<string, string>> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp' };

function imageBlock(url: string): Block {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (!m) {
    throw invalid(
      url.startsWith('data:') ? 'Bedrock accepts images only as base64 data: URLs' : 'Bedrock Converse does not fetch image URLs: send the image as a base64 data: URL',
      'messages',
    );
  }
  const format = IMAGE_FORMATS[m[1]!.toLowerCase()];
  if (!format) throw invalid(`Bedrock does not accept ${m[1]} images (png, jpeg, gif or webp only)`, 'messages');
  return { image: { format, source: { bytes: m[2] } } };
}

/** Text and image blocks; empty text is dropped (Converse rejects blank text blocks). */
function contentBlocks(content: ChatMessage['content']): Block[] {
  if (content === null) return [];
  if (typeof content === 'string') return content ? [{ text: content }] : [];
  return content.flatMap((p): Block[] => (p.type === 'text' ? (p.text ? [{ text: p.text }] : []) : [imageBlock(p.image_url.url)]));
}

function toolUseBlock(call: ToolCall): Block {
  let input: unknown;
  try {
    input = call.function.arguments.trim() === '' ? {} : JSON.parse(call.function.arguments);
  } catch {
    input = undefined;
  }
  if (!isObject(input)) throw invalid(`The arguments of tool call ${call.id} are not a JSON object`, 'messages');
  return { toolUse: { toolUseId: call.id, name: call.function.name, input } };
}

/** A tool message's result: a JSON object travels as `json`, anything else as `text`. */
function toolResultBlock(m: ChatMessage): Block {
  if (!m.tool_call_id) throw invalid('A tool message needs a tool_call_id', 'messages');
  const text = contentText(m.content);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const content = isObject(json) ? [{ json }] : text ? [{ text }] : [];
  return { toolResult: { toolUseId: m.tool_call_id, content } };
}

/**
 * Converse has no JSON mode shared by all its models, so a JSON response format becomes an
 * instruction appended to the system prompt. Forcing a tool whose input schema is the requested
 * schema would be stricter, but turns the answer into a tool call the client did not ask for.
 */
function jsonInstruction(format: ResponseFormat | undefined): string | undefined {
  if (!format || format.type === 'text') return undefined;
  const schema = format.type === 'json_schema' && format.json_schema.schema ? ` that conforms to this JSON schema: ${JSON.stringify(format.json_schema.schema)}` : '';
  return `Respond with a single valid JSON object${schema}. Output only the JSON, with no prose and no code fences.`;
}

/** Tools and tool choice; undefined (no toolConfig) without tools or with tool_choice "none". */
function toolConfig(req: ChatRequest): Block | undefined {
  if (!req.tools?.length || req.tool_choice === 'none') return undefined;
  const tools = req.tools.map((t) => ({
    toolSpec: defined({ name: t.function.name, description: t.function.description, inputSchema: { json: toolParameters(t) } }),
  }));
  const c = req.tool_choice;
  // Without an explicit choice the model's default (auto) applies; some Bedrock models reject toolChoice.
  const toolChoice = c === undefined ? undefined : c === 'auto' ? { auto: {} } : c === 'required' ? { any: {} } : { tool: { name: c.function.name } };
  return defined({ tools, toolChoice });
}

/**
 * The Converse request body for a canonical request. System and developer messages become `system`;
 * tool results become user messages; consecutive messages of one role are merged, since Converse
 * requires user and assistant turns to alternate. Throws a 400 {@link ProviderError} for content
 * Converse cannot carry (image URLs, tool arguments that are not a JSON object).
 */
export function converseRequest(req: ChatRequest): Record<string, unknown> {
  const system: Block[] = [];
  const messages: ConverseMessage[] = [];
  const append = (role: ConverseMessage['role'], blocks: Block[]): void => {
    if (blocks.length === 0) return;
    const last = messages[messages.length - 1];
    if (last?.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  for (const m of req.messages) {
    if (m.role === 'system' || m.role === 'developer') {
      const text = contentText(m.content);
      if (text) system.push({ text });
    } else if (m.role === 'user') append('user', contentBlocks(m.content));
    else if (m.role === 'assistant') append('assistant', [...contentBlocks(m.content), ...(m.tool_calls ?? []).map(toolUseBlock)]);
    else append('user', [toolResultBlock(m)]);
  }
  const instruction = jsonInstruction(req.response_format);
  if (instruction) system.push({ text: instruction });
  const inferenceConfig = defined({ maxTokens: req.max_completion_tokens ?? req.max_tokens, temperature: req.temperature, topP: req.top_p, stopSequences: stopList(req.stop) });
  return defined({
    messages,
    system: system.length > 0 ? system : undefined,
    inferenceConfig: Object.keys(inferenceConfig).length > 0 ? inferenceConfig : undefined,
    toolConfig: toolConfig(req),
  });
}
