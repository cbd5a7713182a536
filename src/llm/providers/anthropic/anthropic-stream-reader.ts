/**
 * Anthropic stream events → canonical chunks. The first chunk carries the role; text deltas become
 * content; a `tool_use` block becomes a tool call (id and name first, then `input_json_delta` pieces as
 * argument fragments), numbered 0, 1… among tool calls only; `message_delta` gives the finish reason;
 * `message_stop` ends the stream with a usage chunk (empty choices). Thinking blocks, citations and
 * pings are read past.
 */

import { errorTypeForStatus, ProviderError } from '../provider.js';
import { eventJson, protocolFailure } from '../provider-http.js';
import { chunkFactory, type ChatChunk } from '../../wire/chat.js';
import type { SseEvent } from '../../wire/sse-parser.js';
import { finishReasonOf, statusOfAnthropicError, usageOfAnthropic } from './anthropic-mapping.js';
import type { AnthropicStreamEvent, AnthropicUsage } from './anthropic-wire.js';

/** An in-stream `error` event as a ProviderError with the status Anthropic gives that error type (overloaded_error → 529). */
function streamError(e: { error?: { type?: string; message?: string } }, name: string): ProviderError {
  const status = statusOfAnthropicError(e.error?.type);
  return new ProviderError('status', status, errorTypeForStatus(status), e.error?.message || `${name} failed mid-stream`, { code: e.error?.type });
}

const DELTA_HEAD = '{"type":"content_block_delta","index":';
const TEXT_DELTA = ',"delta":{"type":"text_delta","text":';

/**
 * The text of a text delta event in the compact form Anthropic sends, byte for byte
 * `{"type":"content_block_delta","index":N,"delta":{"type":"text_delta","text":"…"}}`, with only the
 * string literal parsed; undefined for any other data (which is then parsed whole). The literal is
 * everything between the fixed parts, so when it parses as one string the event has exactly that shape.
 */
export function compactTextDelta(data: string): string | undefined {
  if (!data.startsWith(DELTA_HEAD) || !data.endsWith('}}')) return undefined;
  let i = DELTA_HEAD.length;
  while (i < data.length && data.charCodeAt(i) >= 48 && data.charCodeAt(i) <= 57) i++;
  if (i === DELTA_HEAD.length || !data.startsWith(TEXT_DELTA, i)) return undefined;
  const literal = data.slice(i + TEXT_DELTA.length, -2);
  if (literal.charCodeAt(0) !== 34 /* " */) return undefined;
  try {
    const text: unknown = JSON.parse(literal);
    return typeof text === 'string' ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads Anthropic's events as canonical chunks. Throws a ProviderError on an `error` event, on an event
 * that is not JSON, and when the stream ends before the message did (no `message_start`, or no stop reason).
 */
export async function* anthropicChunks(events: AsyncIterable<SseEvent>, name: string): AsyncGenerator<ChatChunk> {
  const out = chunkFactory('');
  const usage: AnthropicUsage = { input_tokens: 0, output_tokens: 0 };
  /** Content block index → tool call index. */
  const tools = new Map<number, number>();
  let started = false;
  let stopped = false;
  /** `message_stop` arrived. */
  let ended = false;

  for await (const e of events) {
    if (e.event === 'ping') continue;
    // Most events are text deltas: read those without parsing the whole event.
    const text = e.event === 'content_block_delta' ? compactTextDelta(e.data) : undefined;
    if (text !== undefined) {
      if (text) yield out.content(text);
      continue;
    }
    const data = eventJson<AnthropicStreamEvent>(e, name);
    switch (data.type) {
      case 'error':
        throw streamError(data, name);
      case 'message_start':
        started = true;
        out.id = data.message.id;
        out.model = data.message.model;
        Object.assign(usage, data.message.usage);
        yield out.role();
        break;
      case 'content_block_start': {
        const b = data.content_block;
        if (b.type === 'tool_use') {
          const index = tools.size;
          tools.set(data.index, index);
          yield out.toolCallStart(index, b.id, b.name);
        } else if (b.type === 'text' && b.text) yield out.content(b.text);
        break;
      }
      case 'content_block_delta': {
        const d = data.delta;
        if (d.type === 'text_delta' && d.text) yield out.content(d.text);
        else if (d.type === 'input_json_delta' && d.partial_json) {
          const index = tools.get(data.index);
          if (index !== undefined) yield out.toolCallArguments(index, d.partial_json);
        }
        break;
      }
      case 'message_delta':
        // Usage counts here are cumulative totals for the message: they replace, never add.
        for (const [k, v] of Object.entries(data.usage ?? {})) if (typeof v === 'number') (usage as unknown as Record<string, number>)[k] = v;
        if (data.delta?.stop_reason) {
          stopped = true;
          yield out.finish(finishReasonOf(data.delta.stop_reason));
        }
        break;
      case 'message_stop':
        // Read on to the end of the body (it follows at once) rather than return: leaving the
        // for-await early destroys the response stream, which costs an AbortError per stream.
        ended = true;
        break;
      default:
      // content_block_stop and event types added later carry nothing for the canonical format.
    }
  }
  if (!started || (!stopped && !ended)) throw protocolFailure(`${name} ended the stream before the message was complete`);
  yield out.usage(usageOfAnthropic(usage));
}
