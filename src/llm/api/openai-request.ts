/**
 * Validation of OpenAI-format requests (`/v1/chat/completions`, `/v1/embeddings`) into the canonical
 * shapes. Known fields are checked (a wrong type is a 400 naming the field); unknown top-level fields
 * are kept in `extra` and forwarded to OpenAI-compatible providers only.
 */

import { z } from 'zod';
import { gatewayError } from '../../core/errors.js';
import type { ChatRequest, EmbeddingsRequest } from '../wire/chat.js';
import { commonChatRequest } from './common-chat-request.js';

const TextPart = z.object({ type: z.literal('text'), text: z.string() }).loose();
const ImagePart = z
  .object({ type: z.literal('image_url'), image_url: z.object({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }).loose() })
  .loose();
const Content = z.union([z.string(), z.array(z.discriminatedUnion('type', [TextPart, ImagePart])), z.null()]);

const ToolCall = z.object({
  id: z.string().min(1),
  type: z.literal('function').default('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

const Message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: Content, name: z.string().optional() }),
  z.object({ role: z.literal('developer'), content: Content, name: z.string().optional() }),
  z.object({ role: z.literal('user'), content: Content, name: z.string().optional() }),
  z.object({ role: z.literal('assistant'), content: Content.optional().default(null), name: z.string().optional(), tool_calls: z.array(ToolCall).optional(), refusal: z.string().nullable().optional() }),
  z.object({ role: z.literal('tool'), content: Content, tool_call_id: z.string().min(1) }),
]);

const Tool = z.object({
  type: z.literal('function'),
  function: z.object({ name: z.string().min(1).max(64), description: z.string().optional(), parameters: z.record(z.string(), z.unknown()).optional(), strict: z.boolean().nullable().optional() }),
});

const ToolChoice = z.union([z.enum(['none', 'auto', 'required']), z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1) }) })]);

const ResponseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({ type: z.literal('json_schema'), json_schema: z.object({ name: z.string().min(1), description: z.string().optional(), schema: z.record(z.string(), z.unknown()).optional(), strict: z.boolean().nullable().optional() }) }),
]);

const KNOWN = {
  model: z.string().min(1).max(264),
  messages: z.array(Message).min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: z.number().int().min(1).nullable().optional(),
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  n: z.number().int().min(1).max(128).nullable().optional(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  user: z.string().optional(),
  tools: z.array(Tool).max(128).optional(),
  tool_choice: ToolChoice.optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: ResponseFormat.optional(),
};
const ChatSchema = z.object(KNOWN).loose();

const EmbeddingsSchema = z.object({
  model: z.string().min(1).max(264),
  input: z.union([z.string(), z.array(z.string()).min(1).max(2048), z.array(z.number().int()).min(1), z.array(z.array(z.number().int()).min(1)).min(1).max(2048)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().min(1).optional(),
  user: z.string().optional(),
});

function invalid(error: z.ZodError): never {
  const details = error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const first = details[0]!;
  throw gatewayError('VALIDATION', `Invalid request: ${first.path ? `${first.path}: ` : ''}${first.message}`, details);
}

/** Drops null members (OpenAI treats an explicit null as "not set"). */
function withoutNulls<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === null) delete o[k];
  return o;
}

/**
 * A chat request's canonical shape, or a VALIDATION error (400) naming the first bad field. Common
 * requests are read by {@link commonChatRequest}, which answers exactly what the schema would; the
 * rest, and every request with a problem, go through the schema ({@link schemaChatRequest}).
 */
export function parseChatRequest(body: unknown): ChatRequest {
  return commonChatRequest(body) ?? schemaChatRequest(body);
}

/** {@link parseChatRequest} through the schema alone. */
export function schemaChatRequest(body: unknown): ChatRequest {
  const r = ChatSchema.safeParse(body);
  if (!r.success) invalid(r.error);
  const extra: Record<string, unknown> = {};
  const known: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.data)) {
    if (k in KNOWN) known[k] = v;
    else if (v !== null) extra[k] = v;
  }
  const req = withoutNulls(known) as unknown as ChatRequest;
  if (Object.keys(extra).length > 0) req.extra = extra;
  return req;
}

export function parseEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  const r = EmbeddingsSchema.safeParse(body);
  if (!r.success) invalid(r.error);
  return r.data;
}
