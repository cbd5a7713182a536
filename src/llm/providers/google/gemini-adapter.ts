/**
 * The Gemini API (Google AI Studio keys): `${baseUrl}/models/{model}:generateContent`, streams from
 * `:streamGenerateContent?alt=sse`, embeddings from `:batchEmbedContents`; the key travels in the
 * `x-goog-api-key` header. Translation is shared with Vertex AI (gemini-request.ts, gemini-response.ts).
 *
 * Reference: https://ai.google.dev/api
 */

import { embeddingsList, type EmbeddingsRequest, type EmbeddingsResponse } from '../../wire/chat.js';
import { protocolFailure } from '../provider-http.js';
import type { AttemptIo, ProviderAdapter, ProviderTarget } from '../provider.js';
import { googleChat, postGoogle, type GoogleEndpoint } from './google-chat.js';
import { embeddingTexts } from './google-embeddings.js';

/** The model's resource name: `models/{id}` unless the id already names a resource (`tunedModels/…`). */
function modelResource(model: string): string {
  return model.includes('/') ? model : `models/${model}`;
}

const endpoint: GoogleEndpoint = {
  name: 'Gemini',
  async resolve(target, _io, method) {
    const headers: Record<string, string> = target.apiKey ? { 'x-goog-api-key': target.apiKey } : {};
    return { url: `${target.baseUrl}/${modelResource(target.model)}:${method}`, headers };
  },
};

async function embeddings(req: EmbeddingsRequest, target: ProviderTarget, io: AttemptIo): Promise<EmbeddingsResponse> {
  const texts = embeddingTexts(req, endpoint.name);
  const model = modelResource(target.model);
  const requests = texts.map((text) => ({ model, content: { parts: [{ text }] }, ...(req.dimensions ? { outputDimensionality: req.dimensions } : {}) }));
  const answer = await postGoogle<{ embeddings?: Array<{ values?: number[] }> }>(endpoint, target, io, 'batchEmbedContents', { requests });
  const vectors = answer?.embeddings?.map((e) => e.values);
  if (!vectors || vectors.length !== texts.length || !vectors.every(Array.isArray)) throw protocolFailure('Gemini sent an embeddings response without one vector per input');
  // Gemini reports no usage for embeddings: estimated at four characters a token.
  const tokens = texts.reduce((n, t) => n + Math.ceil(t.length / 4), 0);
  return embeddingsList(vectors as number[][], req.model, tokens, req.encoding_format);
}

export const geminiAdapter: ProviderAdapter = {
  type: 'gemini',
  defaultBaseUrl: () => 'https://generativelanguage.googleapis.com/v1beta',
  ...googleChat(endpoint),
  embeddings,
};
