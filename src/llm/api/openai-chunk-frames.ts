/**
 * SSE frames of OpenAI `chat.completion.chunk`s, exactly as `sseFrame(JSON.stringify(chunk))` writes
 * them, with a fast path for the frame a stream sends most: one text delta of choice 0 and nothing
 * else. Such a frame is the stream's template (its id, created and model, rebuilt when they change)
 * around `JSON.stringify(text)`, instead of a whole object serialised per token. The fast path takes
 * only chunks of exactly that shape — the same keys in the same order — so the bytes never differ.
 * One per stream; not for concurrent use.
 */

import type { ChatChunk } from '../wire/chat.js';
import { sseFrame } from '../wire/sse-parser.js';

const CHUNK_KEYS = ['id', 'object', 'created', 'model', 'choices'] as const;
const CHOICE_KEYS = ['index', 'delta', 'finish_reason'] as const;
const DELTA_KEYS = ['content'] as const;
const SUFFIX = '},"finish_reason":null}]}\n\n';

/** Whether `o`'s enumerable keys are exactly `keys`, in that order (the order JSON.stringify writes them). */
function keysAre(o: object, keys: readonly string[]): boolean {
  let i = 0;
  for (const k in o) if (k !== keys[i++]) return false;
  return i === keys.length;
}

/** The text of a chunk that is one plain text delta of choice 0, or undefined for any other chunk. */
function plainText(c: ChatChunk): string | undefined {
  if (c.object !== 'chat.completion.chunk' || typeof c.id !== 'string' || typeof c.model !== 'string' || typeof c.created !== 'number') return undefined;
  if (!Array.isArray(c.choices) || c.choices.length !== 1 || !keysAre(c, CHUNK_KEYS)) return undefined;
  const choice = c.choices[0]!;
  if (choice.index !== 0 || choice.finish_reason !== null || !keysAre(choice, CHOICE_KEYS)) return undefined;
  const d = choice.delta;
  return typeof d === 'object' && d !== null && typeof d.content === 'string' && keysAre(d, DELTA_KEYS) ? d.content : undefined;
}

export class OpenAiChunkFrames {
  private id: string | undefined;
  private created = 0;
  private model = '';
  private prefix = '';

  /** The `data:` frame of one chunk. */
  frame(chunk: ChatChunk): string {
    const text = plainText(chunk);
    if (text === undefined) return sseFrame(JSON.stringify(chunk));
    if (chunk.id !== this.id || chunk.created !== this.created || chunk.model !== this.model) {
      this.id = chunk.id;
      this.created = chunk.created;
      this.model = chunk.model;
      this.prefix = `data: {"id":${JSON.stringify(chunk.id)},"object":"chat.completion.chunk","created":${JSON.stringify(chunk.created)},"model":${JSON.stringify(chunk.model)},"choices":[{"index":0,"delta":{"content":`;
    }
    return this.prefix + JSON.stringify(text) + SUFFIX;
  }
}
