/**
 * Anthropic Messages requests from clients (POST /v1/messages with the Anthropic SDK) → canonical
 * chat requests. The body is validated first; anything the canonical format cannot carry is either
 * rejected with a field path (server tools, documents, files) or read past (thinking configuration and
 * blocks, cache_control, top_k), as listed in the schema.
 */

import { z } from 'zod';
import { joinPath, validationError } from '../../config/input-validation.js';
import type { ErrorDetail } from '../../core/errors.js';
import { assistantContentOf, partOfBlock, toolChoiceOf, toolDefinitionOf } from '../providers/anthropic/anthropic-mapping.js';
import type { ChatMessage, ChatRequest, ContentPart } from '../wire/chat.js';

const textBlock = z.object({ type: z.literal('text'), text: z.string() });

const imageBlock = z.object({
  type: z.literal('image'),
  source: z.discriminatedUnion('type', [
    z.object({ type: z.literal('base64'), media_type: z.string().min(1), data: z.string() }),
    z.object({ type: z.literal('url'), url: z.string().min(1) }),
  ]),
});

const toolResultBlock = z.object({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textBlock, imageBlock]))]).optional(),
  is_error: z.boolean().optional(),
});

const toolUseBlock = z.object({ type: z.literal('tool_use'), id: z.string().min(1), name: z.string().min(1), input: z.record(z.string(), z.unknown()) });

/** Thinking blocks a client hands back from an earlier turn; read past. */
const thinkingBlock = z.object({ type: z.literal('thinking') });
const redactedThinkingBlock = z.object({ type: z.literal('redacted_thinking') });

const userMessage = z.object({
  role: z.literal('user'),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textBlock, imageBlock, toolResultBlock]))]),
});

const assistantMessage = z.object({
  role: z.literal('assistant'),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textBlock, toolUseBlock, thinkingBlock, redactedThinkingBlock]))]),
});

const disableParallel = { disable_parallel_tool_use: z.boolean().optional() };

const requestSchema = z.object({
  model: z.string().min(1),
  max_tokens: z.number().int().min(1),
  messages: z.array(z.discriminatedUnion('role', [userMessage, assistantMessage])).min(1),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  /** Accepted for compatibility; the canonical format has no top_k. */
  top_k: z.number().int().min(0).optional(),
  stream: z.boolean().optional(),
  tools: z.array(z.object({ name: z.string().min(1), description: z.string().optional(), input_schema: z.record(z.string(), z.unknown()) })).optional(),
  tool_choice: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('auto'), ...disableParallel }),
      z.object({ type: z.literal('any'), ...disableParallel }),
      z.object({ type: z.literal('tool'), name: z.string().min(1), ...disableParallel }),
      z.object({ type: z.literal('none') }),
    ])
    .optional(),
  metadata: z.object({ user_id: z.string().nullish() }).optional(),
});

/**
 * Validation issues as error details, each union resolved to the branch that got furthest (content
 * given as blocks is reported at the bad block, not as "not a string either").
 */
function details(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): ErrorDetail[] {
  const depth = (branch: readonly z.core.$ZodIssue[]): number => Math.max(0, ...branch.map((i) => i.path.length));
  return issues.flatMap((i) => {
    const path = [...prefix, ...i.path];
    if (i.code !== 'invalid_union' || i.errors.length === 0) return [{ path: joinPath(path), message: i.message }];
    const best = i.errors.reduce((a, b) => (depth(b) > depth(a) ? b : a));
    return details(best, path);
  });
}

type UserContent = z.infer<typeof userMessage>['content'];

/**
 * A user turn as canonical messages: its tool results first, as tool messages (so they follow the
 * assistant turn that called the tools), then the text and images as one user message. Tool results
 * become text; images inside tool results move to that user message.
 */
function userMessages(content: UserContent): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const out: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  for (const b of content) {
    if (b.type !== 'tool_result') {
      parts.push(partOfBlock(b));
      continue;
    }
    let text = typeof b.content === 'string' ? b.content : '';
    for (const c of typeof b.content === 'string' ? [] : (b.content ?? [])) {
      if (c.type === 'text') text += (text ? '\n' : '') + c.text;
      else parts.push(partOfBlock(c));
    }
    out.push({ role: 'tool', tool_call_id: b.tool_use_id, content: text });
  }
  if (parts.length > 0) out.push({ role: 'user', content: parts });
  return out;
}

/**
 * Validates an Anthropic Messages request body and translates it into a canonical request.
 * Throws VALIDATION (400) whose details name the offending fields (e.g. `messages.0.content.1.source`).
 */
export function anthropicRequestToCanonical(body: unknown): ChatRequest {
  const parsed = requestSchema.safeParse(body);
  if (!parsed.success) throw validationError('Messages request', details(parsed.error.issues));
  const b = parsed.data;
  const messages: ChatMessage[] = [];
  const system = typeof b.system === 'string' ? b.system : (b.system ?? []).map((t) => t.text).join('\n\n');
  if (system) messages.push({ role: 'system', content: system });
  for (const m of b.messages) {
    if (m.role === 'user') messages.push(...userMessages(m.content));
    else messages.push(typeof m.content === 'string' ? { role: 'assistant', content: m.content } : { role: 'assistant', ...assistantContentOf(m.content) });
  }
  const req: ChatRequest = { model: b.model, messages, max_tokens: b.max_tokens };
  if (b.stop_sequences?.length) req.stop = b.stop_sequences;
  if (b.temperature !== undefined) req.temperature = b.temperature;
  if (b.top_p !== undefined) req.top_p = b.top_p;
  if (b.tools?.length) req.tools = b.tools.map(toolDefinitionOf);
  if (b.tool_choice) Object.assign(req, toolChoiceOf(b.tool_choice));
  if (b.metadata?.user_id) req.user = b.metadata.user_id;
  if (b.stream) {
    req.stream = true;
    req.stream_options = { include_usage: true };
  }
  return req;
}
