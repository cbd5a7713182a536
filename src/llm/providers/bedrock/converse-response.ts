/**
 * Bedrock Converse answers and ConverseStream event-stream messages → canonical responses and chunks.
 *
 * Reference: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 */

import { toUtf8 } from '@smithy/util-utf8';
import { assistantChoice, chatCompletion, chunkFactory, completionId, unixSeconds, usageOf, type ChatChunk, type ChatResponse, type FinishReason, type ToolCall, type Usage } from '../../wire/chat.js';
import { protocolFailure } from '../provider-http.js';
import { ProviderError, errorTypeForStatus } from '../provider.js';
import { isObject } from './converse-request.js';
import { stringHeader, type EventStreamMessage } from './event-stream-reader.js';

const NAME = 'Bedrock';

interface ConverseUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

export interface ConverseResponse {
  output?: { message?: { content?: Array<{ text?: string; toolUse?: { toolUseId: string; name: string; input?: unknown } }> } };
  stopReason?: string;
  usage?: ConverseUsage;
}

/** The JSON payload of a ConverseStream event or exception (the fields this adapter reads). */
interface StreamPayload {
  contentBlockIndex?: number;
  start?: { toolUse?: { toolUseId: string; name: string } };
  delta?: { text?: string; toolUse?: { input?: string } };
  stopReason?: string;
  usage?: ConverseUsage;
  message?: string;
}

const FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  guardrail_intervened: 'content_filter',
  content_filtered: 'content_filter',
};

const finishReason = (stopReason: string | undefined): FinishReason => FINISH_REASONS[stopReason ?? ''] ?? 'stop';

/**
 * Canonical usage. Converse counts cache reads and writes apart from `inputTokens`; OpenAI's
 * `prompt_tokens` includes them, with the reads repeated as `cached_tokens`.
 */
function usageFrom(u: ConverseUsage | undefined): Usage | undefined {
  if (!u) return undefined;
  const cached = u.cacheReadInputTokens ?? 0;
  return usageOf({ input: (u.inputTokens ?? 0) + cached + (u.cacheWriteInputTokens ?? 0), output: u.outputTokens ?? 0, cachedInput: cached, reasoning: 0 });
}

/** A canonical chat completion from a Converse response; a response without content is a protocol failure. */
export function converseChatResponse(r: ConverseResponse, model: string): ChatResponse {
  const blocks = r?.output?.message?.content;
  if (!Array.isArray(blocks)) throw protocolFailure(`${NAME} sent a Converse response without output.message.content`);
  let text = '';
  const calls: ToolCall[] = [];
  for (const b of blocks) {
    if (typeof b.text === 'string') text += b.text;
    else if (b.toolUse) calls.push({ id: b.toolUse.toolUseId, type: 'function', function: { name: b.toolUse.name, arguments: JSON.stringify(b.toolUse.input ?? {}) } });
  }
  return chatCompletion(completionId(), unixSeconds(), model, [assistantChoice(text, calls, finishReason(r.stopReason))], usageFrom(r.usage));
}

/** HTTP statuses of ConverseStream's in-stream exceptions, per the API reference. */
const EXCEPTION_STATUS: Readonly<Record<string, number>> = {
  validationException: 400,
  modelTimeoutException: 408,
  modelStreamErrorException: 424,
  throttlingException: 429,
  internalServerException: 500,
  serviceUnavailableException: 503,
};

function payloadOf(m: EventStreamMessage): StreamPayload {
  try {
    const p: unknown = JSON.parse(toUtf8(m.body));
    return isObject(p) ? (p as StreamPayload) : {};
  } catch {
    throw protocolFailure(`${NAME} sent a stream event that is not JSON`);
  }
}

/** The ProviderError for an `exception` or `error` message, or undefined for an event. */
function streamFailure(m: EventStreamMessage): ProviderError | undefined {
  const kind = stringHeader(m, ':message-type');
  if (kind === 'exception') {
    const type = stringHeader(m, ':exception-type') ?? 'internalServerException';
    const status = EXCEPTION_STATUS[type] ?? 500;
    return new ProviderError('status', status, errorTypeForStatus(status), payloadOf(m).message ?? `${NAME} failed mid-stream (${type})`, { code: type });
  }
  if (kind === 'error') {
    const code = stringHeader(m, ':error-code');
    return new ProviderError('status', 500, 'api_error', stringHeader(m, ':error-message') ?? `${NAME} failed mid-stream`, { code });
  }
  return undefined;
}

/**
 * Canonical chunks from ConverseStream messages: a role chunk, text and tool-call deltas (tool calls
 * indexed in order of appearance, id and name on the first fragment), a finish chunk, then a usage
 * chunk (no choices) from `metadata`. Throws a {@link ProviderError} for an exception message and a
 * protocol failure when the stream ends before `messageStop`.
 */
export async function* converseChunks(messages: AsyncIterable<EventStreamMessage>, model: string): AsyncGenerator<ChatChunk> {
  const out = chunkFactory(completionId(), unixSeconds(), model);
  // Content block index → tool call index.
  const toolIndex = new Map<number, number>();
  let stopped = false;
  let usage: Usage | undefined;
  for await (const m of messages) {
    const failure = streamFailure(m);
    if (failure) throw failure;
    if (stringHeader(m, ':message-type') !== 'event') continue;
    const e = payloadOf(m);
    switch (stringHeader(m, ':event-type')) {
      case 'messageStart':
        yield out.role();
        break;
      case 'contentBlockStart': {
        const use = e.start?.toolUse;
        if (!use) break;
        const index = toolIndex.size;
        toolIndex.set(e.contentBlockIndex ?? -1, index);
        yield out.toolCallStart(index, use.toolUseId, use.name);
        break;
      }
      case 'contentBlockDelta': {
        const d = e.delta;
        if (typeof d?.text === 'string') {
          if (d.text) yield out.content(d.text);
        } else if (typeof d?.toolUse?.input === 'string') {
          const index = toolIndex.get(e.contentBlockIndex ?? -1);
          if (index === undefined) throw protocolFailure(`${NAME} sent tool input for a content block it never started`);
          yield out.toolCallArguments(index, d.toolUse.input);
        }
        break;
      }
      case 'messageStop':
        stopped = true;
        yield out.finish(finishReason(e.stopReason));
        break;
      case 'metadata':
        usage = usageFrom(e.usage);
        break;
    }
  }
  if (!stopped) throw protocolFailure(`${NAME} ended the stream before messageStop`);
  if (usage) yield out.usage(usage);
}
