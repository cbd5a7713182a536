/**
 * A fast reading of the common OpenAI chat request — text messages and the usual sampling fields —
 * for the data plane's hot path, where the full schema (openai-request.ts) costs more than the rest
 * of the request's own work. It accepts only what it can check completely and answers exactly what
 * the schema would: the same fields, values and key order (known fields in the schema's order, nulls
 * dropped, unknown top-level fields in `extra`, unknown message fields dropped). Anything else —
 * content parts, tool calls, tools, response formats, any value out of range or of another type —
 * gives `undefined`, and the caller runs the schema, which also writes every error message.
 */

import type { ChatRequest } from '../wire/chat.js';

type Json = Record<string, unknown>;

/** Fields read here, in the schema's order, each with its check (null is accepted by those the schema makes nullable). */
const FIELDS: ReadonlyArray<readonly [string, (v: unknown) => boolean]> = [
  ['model', (v) => typeof v === 'string' && v.length >= 1 && v.length <= 264],
  ['messages', () => true], // read by messagesOf
  ['stream', (v) => v === null || typeof v === 'boolean'],
  ['stream_options', () => true], // read by streamOptionsOf
  ['max_tokens', (v) => v === null || intIn(v, 1, Number.MAX_SAFE_INTEGER)],
  ['max_completion_tokens', (v) => v === null || intIn(v, 1, Number.MAX_SAFE_INTEGER)],
  ['temperature', (v) => v === null || numberIn(v, 0, 2)],
  ['top_p', (v) => v === null || numberIn(v, 0, 1)],
  ['n', (v) => v === null || intIn(v, 1, 128)],
  ['stop', (v) => v === null || typeof v === 'string' || (Array.isArray(v) && v.length <= 4 && v.every((s) => typeof s === 'string'))],
  ['presence_penalty', (v) => v === null || numberIn(v, -2, 2)],
  ['frequency_penalty', (v) => v === null || numberIn(v, -2, 2)],
  ['seed', (v) => v === null || intIn(v, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)],
  ['user', (v) => typeof v === 'string'],
  ['parallel_tool_calls', (v) => typeof v === 'boolean'],
];

/** Schema fields this reading leaves to the schema (present: undefined). */
const LEFT_TO_SCHEMA = new Set(['tools', 'tool_choice', 'response_format']);
const READ = new Map(FIELDS);

function numberIn(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
}

function intIn(v: unknown, min: number, max: number): boolean {
  return Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
}

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A text message as the schema outputs it (its fields in the schema's order), or undefined. */
function messageOf(m: unknown): Json | undefined {
  if (!isPlainObject(m)) return undefined;
  const { role, content, name } = m;
  if (name !== undefined && typeof name !== 'string') return undefined;
  switch (role) {
    case 'system':
    case 'developer':
    case 'user':
      if (typeof content !== 'string') return undefined;
      return name === undefined ? { role, content } : { role, content, name };
    case 'assistant':
      // Tool calls and refusals go through the schema.
      if ((content !== undefined && content !== null && typeof content !== 'string') || m.tool_calls !== undefined || m.refusal !== undefined) return undefined;
      return name === undefined ? { role, content: content ?? null } : { role, content: content ?? null, name };
    case 'tool':
      if (typeof content !== 'string' || typeof m.tool_call_id !== 'string' || m.tool_call_id.length === 0) return undefined;
      return { role, content, tool_call_id: m.tool_call_id };
    default:
      return undefined;
  }
}

function messagesOf(v: unknown): Json[] | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const out = new Array<Json>(v.length);
  for (let i = 0; i < v.length; i++) {
    const m = messageOf(v[i]);
    if (!m) return undefined;
    out[i] = m;
  }
  return out;
}

/** `stream_options` as the schema outputs it (null, or only `include_usage`), or undefined when it is anything else. */
function streamOptionsOf(v: unknown): Json | null | undefined {
  if (v === null) return null;
  if (!isPlainObject(v)) return undefined;
  const u = v.include_usage;
  if (u === undefined) return {};
  return typeof u === 'boolean' ? { include_usage: u } : undefined;
}

/** The request the schema would give for `body`, when `body` is a common request; undefined otherwise (use the schema). */
export function commonChatRequest(body: unknown): ChatRequest | undefined {
  if (!isPlainObject(body)) return undefined;
  const req: Json = {};
  let extra: Json | undefined;
  for (const k in body) {
    const v = body[k];
    if (v === undefined || k === '__proto__' || LEFT_TO_SCHEMA.has(k)) return undefined;
    const check = READ.get(k);
    if (check) {
      if (!check(v)) return undefined;
    } else if (v !== null) (extra ??= {})[k] = v;
  }
  for (const [k] of FIELDS) {
    const v = body[k];
    if (v === undefined || v === null) continue;
    if (k === 'messages') {
      const messages = messagesOf(v);
      if (!messages) return undefined;
      req.messages = messages;
    } else if (k === 'stream_options') {
      const options = streamOptionsOf(v);
      if (options === undefined) return undefined;
      if (options !== null) req.stream_options = options;
    } else req[k] = k === 'stop' && Array.isArray(v) ? v.slice() : v;
  }
  if (req.model === undefined || req.messages === undefined) return undefined;
  if (extra) req.extra = extra;
  return req as unknown as ChatRequest;
}
