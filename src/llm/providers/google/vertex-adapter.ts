/**
 * Gemini on Vertex AI: `${baseUrl}/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent`
 * (and `:streamGenerateContent?alt=sse`), with a bearer token obtained from the provider key, a
 * service-account JSON (vertex-auth.ts). Bodies are the Gemini API's (shared translation). Embeddings
 * use `:predict`.
 *
 * Options: `project` (default: the service account's project_id), `location` (default us-central1;
 * "global" selects the global endpoint).
 *
 * Reference: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/inference
 */

import type { Dispatcher } from 'undici';
import { embeddingsList, type EmbeddingsRequest, type EmbeddingsResponse } from '../../wire/chat.js';
import { protocolFailure } from '../provider-http.js';
import { ProviderError, type AttemptIo, type ProviderAdapter, type ProviderTarget } from '../provider.js';
import { googleChat, postGoogle, type GoogleEndpoint } from './google-chat.js';
import { embeddingTexts } from './google-embeddings.js';
import { GoogleTokenSource } from './vertex-auth.js';

const DEFAULT_LOCATION = 'us-central1';

function locationOf(options: Readonly<Record<string, string>>): string {
  return options.location || DEFAULT_LOCATION;
}

/** The regional endpoint for a location; undefined for a location that is not a plain region name. */
function vertexBaseUrl(options: Readonly<Record<string, string>>): string | undefined {
  const location = locationOf(options);
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(location)) return undefined;
  return location === 'global' ? 'https://aiplatform.googleapis.com/v1' : `https://${location}-aiplatform.googleapis.com/v1`;
}

interface PredictAnswer {
  predictions?: Array<{ embeddings?: { values?: number[]; statistics?: { token_count?: number } } }>;
}

export interface VertexAdapterOptions {
  /** Clock (ms) for token signing and expiry. Default Date.now. */
  readonly now?: () => number;
  /**
   * Dispatcher for a token endpoint on another origin than the provider's (Google's
   * oauth2.googleapis.com); default undici's global dispatcher.
   */
  readonly tokenDispatcher?: Dispatcher;
}

/** A Vertex adapter with its own token cache (one per gateway). */
export function createVertexAdapter(opts: VertexAdapterOptions = {}): ProviderAdapter {
  const tokens = new GoogleTokenSource(opts.now ?? Date.now, opts.tokenDispatcher);

  const endpoint: GoogleEndpoint = {
    name: 'Vertex AI',
    async resolve(target, io, method) {
      const { token, projectId } = await tokens.token(target, io);
      const project = target.options.project || projectId;
      if (!project) throw new ProviderError('status', 400, 'invalid_request_error', 'Vertex AI needs a project: set the provider option "project" or use a key with a project_id');
      const model = `projects/${encodeURIComponent(project)}/locations/${encodeURIComponent(locationOf(target.options))}/publishers/google/models/${target.model}`;
      return { url: `${target.baseUrl}/${model}:${method}`, headers: { authorization: `Bearer ${token}` } };
    },
  };

  async function embeddings(req: EmbeddingsRequest, target: ProviderTarget, io: AttemptIo): Promise<EmbeddingsResponse> {
    const texts = embeddingTexts(req, endpoint.name);
    const body = { instances: texts.map((content) => ({ content })), ...(req.dimensions ? { parameters: { outputDimensionality: req.dimensions } } : {}) };
    const answer = await postGoogle<PredictAnswer>(endpoint, target, io, 'predict', body);
    const predictions = answer?.predictions ?? [];
    const vectors = predictions.map((p) => p.embeddings?.values);
    if (vectors.length !== texts.length || !vectors.every(Array.isArray)) throw protocolFailure('Vertex AI sent an embeddings response without one vector per input');
    const tokens = predictions.reduce((n, p) => n + (p.embeddings?.statistics?.token_count ?? 0), 0);
    return embeddingsList(vectors as number[][], req.model, tokens, req.encoding_format);
  }

  return {
    type: 'vertex',
    defaultBaseUrl: vertexBaseUrl,
    ...googleChat(endpoint),
    embeddings,
  };
}
