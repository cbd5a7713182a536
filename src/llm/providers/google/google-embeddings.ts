/**
 * The canonical side of Google embeddings, shared by the Gemini API (`batchEmbedContents`) and
 * Vertex AI (`predict`): which texts to embed.
 */

import type { EmbeddingsRequest } from '../../wire/chat.js';
import { ProviderError } from '../provider.js';

/** The texts of a request. Google embeds text only: token-id input is refused with a 400. */
export function embeddingTexts(req: EmbeddingsRequest, providerName: string): string[] {
  const input = typeof req.input === 'string' ? [req.input] : req.input;
  if (!input.every((x): x is string => typeof x === 'string')) {
    throw new ProviderError('status', 400, 'invalid_request_error', `${providerName} embeds text only, not token ids`, { param: 'input' });
  }
  return input;
}
