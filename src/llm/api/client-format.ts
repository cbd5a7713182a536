/**
 * A client-facing API format (OpenAI Chat Completions, Anthropic Messages): how requests are read
 * into the canonical shape and how answers, streams and errors are written back. The chat pipeline
 * (chat-call.ts) is the same for every format.
 */

import type { ChatChunk, ChatRequest, ChatResponse } from '../wire/chat.js';
import { sseFrame } from '../wire/sse-parser.js';
import { OpenAiChunkFrames } from './openai-chunk-frames.js';

/** Turns canonical chunks into the client's stream, event by event. */
export interface StreamEncoder {
  /** SSE text for one canonical chunk ("" when it produces nothing). */
  push(chunk: ChatChunk): string;
  /** Closing events after the last chunk. */
  end(): string;
  /** An in-stream error event the format's SDKs raise as an error. */
  error(status: number, type: string, message: string): string;
}

export interface ClientFormat {
  /** Usage records' `api` value. */
  readonly api: 'chat' | 'messages';
  parse(body: unknown): ChatRequest;
  /** Error body for a status (JSON text). */
  errorBody(status: number, type: string, message: string, code?: string): string;
  /** A non-streaming answer as the client expects it. */
  response(r: ChatResponse, model: string): unknown;
  /** A stream encoder; `includeUsage`: the client asked for usage in the stream. */
  encoder(model: string, requestId: string, includeUsage: boolean): StreamEncoder;
}

/** The OpenAI format: the canonical shapes themselves, with SSE `data:` frames and a final `[DONE]`. */
export function openAiFormat(parse: (body: unknown) => ChatRequest): ClientFormat {
  return {
    api: 'chat',
    parse,
    errorBody: (_status, type, message, code) => JSON.stringify({ error: { message, type, param: null, code: code ?? null } }),
    response: (r) => r,
    encoder: (_model, _id, includeUsage) => {
      const frames = new OpenAiChunkFrames();
      return {
        push(chunk) {
          // The gateway always asks providers for usage (for cost); a client that did not ask gets no usage chunk.
          if (!includeUsage) {
            if (chunk.choices.length === 0) return '';
            if (chunk.usage) chunk = { ...chunk, usage: undefined };
          }
          return frames.frame(chunk);
        },
        end: () => sseFrame('[DONE]'),
        error: (_status, type, message) => sseFrame(JSON.stringify({ error: { message, type, param: null, code: null } })),
      };
    },
  };
}
