import { anthropicAdapter } from './anthropic/anthropic-adapter.js';
import { bedrockAdapter } from './bedrock/bedrock-adapter.js';
import { cohereAdapter } from './cohere/cohere-adapter.js';
import { geminiAdapter } from './google/gemini-adapter.js';
import { createVertexAdapter } from './google/vertex-adapter.js';
import { ollamaAdapter } from './ollama/ollama-adapter.js';
import { COMPAT_PROFILES, openAiCompatibleAdapter } from './openai-compatible.js';
import type { ProviderAdapter } from './provider.js';
import { ProviderRegistry } from './provider-registry.js';

/** Every built-in adapter, freshly made (Vertex keeps a per-gateway token cache). */
export function builtinProviders(): ProviderAdapter[] {
  return [...COMPAT_PROFILES.map(openAiCompatibleAdapter), anthropicAdapter, geminiAdapter, createVertexAdapter(), cohereAdapter, ollamaAdapter, bedrockAdapter];
}

export function builtinProviderRegistry(): ProviderRegistry {
  return new ProviderRegistry(builtinProviders());
}
