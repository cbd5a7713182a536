/**
 * Canonical chunks → the Anthropic Messages event stream that Anthropic SDK clients read:
 * `message_start`, then per content block `content_block_start` / `content_block_delta` (text_delta,
 * input_json_delta) / `content_block_stop`, then `message_delta` (stop reason, usage) and `message_stop`.
 */

import { anthropicUsageOf, stopReasonOf } from '../providers/anthropic/anthropic-mapping.js';
import type { AnthropicContentBlock, AnthropicStopReason, AnthropicStreamEvent } from '../providers/anthropic/anthropic-wire.js';
import type { ChatChunk, ToolCallDelta, Usage } from '../wire/chat.js';
import { sseFrame } from '../wire/sse-parser.js';
import { NO_USAGE } from './anthropic-response.js';

function frame(e: AnthropicStreamEvent): string {
  return sseFrame(JSON.stringify(e), e.type);
}

/**
 * Encodes one answer's canonical chunks as Anthropic SSE text. Feed every chunk to {@link push} and
 * write what it returns; after the last chunk write {@link end}, or {@link error} when the answer
 * failed. Blocks are numbered 0, 1… in order and each is closed before the next opens; the finish
 * reason and usage are held back for `message_delta`, which {@link end} writes (the usage chunk comes
 * after the finish reason). Only choice 0 is encoded. One encoder per answer; not for concurrent use.
 */
export class AnthropicStreamEncoder {
  private started = false;
  private finished = false;
  private blocks = 0;
  /** The block currently open, if any: its index and, for tool_use, the tool call index. */
  private open: { index: number; tool: number | undefined } | undefined;
  /** Tool call index → block index. */
  private readonly toolBlocks = new Map<number, number>();
  private stop: AnthropicStopReason | undefined;
  private refused = false;
  private usage: Usage | undefined;

  constructor(
    private readonly model: string,
    private readonly messageId: string,
  ) {}

  /** The SSE text for one chunk (often one or two events, possibly none). */
  push(chunk: ChatChunk): string {
    if (this.finished) return '';
    if (chunk.usage) this.usage = chunk.usage;
    let out = this.start();
    const choice = chunk.choices.find((c) => c.index === 0);
    if (!choice) return out;
    const d = choice.delta;
    if (d.refusal) this.refused = true;
    const text = (d.content ?? '') + (d.refusal ?? '');
    if (text) out += this.text(text);
    for (const call of d.tool_calls ?? []) out += this.toolCall(call);
    if (choice.finish_reason) {
      this.stop = stopReasonOf(choice.finish_reason);
      out += this.close();
    }
    return out;
  }

  /** The closing events: the open block's stop, `message_delta` with stop reason and usage, `message_stop`. */
  end(): string {
    if (this.finished) return '';
    let out = this.start() + this.close();
    const u = anthropicUsageOf(this.usage ?? NO_USAGE);
    const usage = this.usage ? { input_tokens: u.input_tokens, cache_read_input_tokens: u.cache_read_input_tokens, output_tokens: u.output_tokens } : { output_tokens: 0 };
    const stop = this.refused && (this.stop ?? 'end_turn') === 'end_turn' ? 'refusal' : (this.stop ?? 'end_turn');
    out += frame({ type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage });
    out += frame({ type: 'message_stop' });
    this.finished = true;
    return out;
  }

  /** An `error` event (e.g. type `overloaded_error`) that ends the stream; later calls write nothing. */
  error(type: string, message: string): string {
    if (this.finished) return '';
    this.finished = true;
    return sseFrame(JSON.stringify({ type: 'error', error: { type, message } }), 'error');
  }

  private start(): string {
    if (this.started) return '';
    this.started = true;
    const u = anthropicUsageOf(this.usage ?? NO_USAGE);
    return frame({
      type: 'message_start',
      message: { id: this.messageId, type: 'message', role: 'assistant', model: this.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...u, output_tokens: 0 } },
    });
  }

  private openBlock(block: AnthropicContentBlock, tool: number | undefined): string {
    const out = this.close();
    this.open = { index: this.blocks++, tool };
    return out + frame({ type: 'content_block_start', index: this.open.index, content_block: block });
  }

  private close(): string {
    if (!this.open) return '';
    const index = this.open.index;
    this.open = undefined;
    return frame({ type: 'content_block_stop', index });
  }

  private text(text: string): string {
    let out = '';
    if (!this.open || this.open.tool !== undefined) out += this.openBlock({ type: 'text', text: '' }, undefined);
    // The frame of frame({type: 'content_block_delta', index, delta: {type: 'text_delta', text}}), written
    // directly: one per token, so no object to build and serialise whole.
    return out + `event: content_block_delta\ndata: {"type":"content_block_delta","index":${this.open!.index},"delta":{"type":"text_delta","text":${JSON.stringify(text)}}}\n\n`;
  }

  /**
   * A tool call fragment. The first fragment of a call opens its tool_use block; argument pieces are
   * input_json_delta events. A piece for a call whose block was closed already (a provider interleaving
   * parallel calls) still goes to that block's index, as the SDKs accumulate by index.
   */
  private toolCall(call: ToolCallDelta): string {
    let out = '';
    let index = this.toolBlocks.get(call.index);
    if (index === undefined) {
      const id = call.id ?? `${this.messageId.replace(/^msg_/, 'toolu_')}_${call.index}`;
      out += this.openBlock({ type: 'tool_use', id, name: call.function?.name ?? '', input: {} }, call.index);
      index = this.open!.index;
      this.toolBlocks.set(call.index, index);
    }
    const args = call.function?.arguments;
    if (args) out += frame({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: args } });
    return out;
  }
}
