/**
 * Token counts the gateway makes itself: for limit checks before sending, and for usage when a
 * provider reports none (a stream cut short, a server without stream usage). Uses the o200k BPE
 * (gpt-tokenizer); for other model families it is an estimate, and records made with it are marked
 * `estimated`. The encoder (a large table) loads on first use or on `warm()`.
 */

import type { ChatMessage, ChatRequest } from '../wire/chat.js';
import { contentText } from '../wire/chat.js';

type Encoder = { countTokens(text: string): number };

/** Tokens OpenAI counts per message for its framing. */
const PER_MESSAGE = 4;
/** Tokens counted for an image part (a low-detail image; the provider's own count wins when given). */
const PER_IMAGE = 85;

export class TokenCounter {
  private encoder: Promise<Encoder> | undefined;

  /** Starts loading the encoder in the background. */
  warm(): void {
    void this.load().catch(() => undefined);
  }

  private load(): Promise<Encoder> {
    this.encoder ??= import('gpt-tokenizer/encoding/o200k_base') as Promise<Encoder>;
    return this.encoder;
  }

  async text(text: string): Promise<number> {
    if (text.length === 0) return 0;
    return (await this.load()).countTokens(text);
  }

  /** Prompt tokens of a chat request: messages, images and tool definitions. */
  async prompt(req: Pick<ChatRequest, 'messages' | 'tools'>): Promise<number> {
    const enc = await this.load();
    let n = 3;
    for (const m of req.messages) n += PER_MESSAGE + messageTokens(enc, m);
    if (req.tools && req.tools.length > 0) n += enc.countTokens(JSON.stringify(req.tools));
    return n;
  }
}

function messageTokens(enc: Encoder, m: ChatMessage): number {
  let n = enc.countTokens(contentText(m.content));
  if (Array.isArray(m.content)) for (const p of m.content) if (p.type === 'image_url') n += PER_IMAGE;
  for (const c of m.tool_calls ?? []) n += enc.countTokens(c.function.name) + enc.countTokens(c.function.arguments);
  return n;
}

/** Characters of a request's text: an upper bound of its tokens (no o200k token is shorter than a character, images aside). */
export function promptChars(req: Pick<ChatRequest, 'messages' | 'tools'>): number {
  let n = 0;
  for (const m of req.messages) {
    n += contentText(m.content).length + PER_MESSAGE;
    if (Array.isArray(m.content)) for (const p of m.content) if (p.type === 'image_url') n += PER_IMAGE;
    for (const c of m.tool_calls ?? []) n += c.function.name.length + c.function.arguments.length;
  }
  if (req.tools && req.tools.length > 0) n += JSON.stringify(req.tools).length;
  return n + 3;
}
