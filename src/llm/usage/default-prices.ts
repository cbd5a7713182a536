import type { ModelPricing } from '../model/llm-provider-spec.js';

/**
 * Built-in list prices (USD per 1M tokens) of widely used models, as their providers published them
 * (2025). They apply when a provider's catalogue gives a model no `pricing`; set `pricing` on the
 * model to use your negotiated rates. Matched by exact id, then by the longest listed prefix, so dated
 * snapshots ("gpt-4o-mini-2024-07-18") and Bedrock ids ("anthropic.claude-3-5-haiku-…") find their family.
 */
export const DEFAULT_PRICES: ReadonlyArray<readonly [string, ModelPricing]> = [
  // OpenAI
  ['gpt-4o-mini', { input: 0.15, output: 0.6, cachedInput: 0.075 }],
  ['gpt-4o', { input: 2.5, output: 10, cachedInput: 1.25 }],
  ['gpt-4.1-nano', { input: 0.1, output: 0.4, cachedInput: 0.025 }],
  ['gpt-4.1-mini', { input: 0.4, output: 1.6, cachedInput: 0.1 }],
  ['gpt-4.1', { input: 2, output: 8, cachedInput: 0.5 }],
  ['gpt-5-nano', { input: 0.05, output: 0.4, cachedInput: 0.005 }],
  ['gpt-5-mini', { input: 0.25, output: 2, cachedInput: 0.025 }],
  ['gpt-5', { input: 1.25, output: 10, cachedInput: 0.125 }],
  ['o4-mini', { input: 1.1, output: 4.4, cachedInput: 0.275 }],
  ['o3-mini', { input: 1.1, output: 4.4, cachedInput: 0.55 }],
  ['o3', { input: 2, output: 8, cachedInput: 0.5 }],
  ['text-embedding-3-small', { input: 0.02, output: 0 }],
  ['text-embedding-3-large', { input: 0.13, output: 0 }],
  // Anthropic (cache reads at 10% of input)
  ['claude-3-5-haiku', { input: 0.8, output: 4, cachedInput: 0.08 }],
  ['claude-3-5-sonnet', { input: 3, output: 15, cachedInput: 0.3 }],
  ['claude-3-7-sonnet', { input: 3, output: 15, cachedInput: 0.3 }],
  ['claude-sonnet-4', { input: 3, output: 15, cachedInput: 0.3 }],
  ['claude-opus-4', { input: 15, output: 75, cachedInput: 1.5 }],
  ['claude-3-haiku', { input: 0.25, output: 1.25, cachedInput: 0.03 }],
  ['claude-haiku-4', { input: 1, output: 5, cachedInput: 0.1 }],
  // Google
  ['gemini-2.5-pro', { input: 1.25, output: 10, cachedInput: 0.31 }],
  ['gemini-2.5-flash', { input: 0.3, output: 2.5, cachedInput: 0.075 }],
  ['gemini-2.0-flash', { input: 0.1, output: 0.4, cachedInput: 0.025 }],
  ['gemini-1.5-pro', { input: 1.25, output: 5, cachedInput: 0.3125 }],
  ['gemini-1.5-flash', { input: 0.075, output: 0.3, cachedInput: 0.01875 }],
  // Mistral
  ['mistral-large', { input: 2, output: 6 }],
  ['mistral-small', { input: 0.1, output: 0.3 }],
  ['codestral', { input: 0.3, output: 0.9 }],
  // Cohere
  ['command-r-plus', { input: 2.5, output: 10 }],
  ['command-r', { input: 0.15, output: 0.6 }],
  ['command-a', { input: 2.5, output: 10 }],
  // DeepSeek
  ['deepseek-chat', { input: 0.27, output: 1.1, cachedInput: 0.07 }],
  ['deepseek-reasoner', { input: 0.55, output: 2.19, cachedInput: 0.14 }],
];

const BY_ID = new Map(DEFAULT_PRICES);
/** Longest prefix first. */
const PREFIXES = [...DEFAULT_PRICES].sort((a, b) => b[0].length - a[0].length);

/**
 * A model id without vendor decorations: OpenRouter's "vendor/" path and Bedrock's "[region.]vendor."
 * prefix (dots before the first dash), so "us.anthropic.claude-3-5-haiku-…" → "claude-3-5-haiku-…".
 */
function familyId(model: string): string {
  const id = model.slice(model.lastIndexOf('/') + 1);
  const dash = id.indexOf('-');
  const dot = id.lastIndexOf('.', dash === -1 ? id.length : dash);
  return dot === -1 ? id : id.slice(dot + 1);
}

/** The built-in price of a model id, or undefined (unknown models cost nothing unless priced in config). */
export function defaultPrice(model: string): ModelPricing | undefined {
  const exact = BY_ID.get(model);
  if (exact) return exact;
  const bare = familyId(model);
  for (const [prefix, price] of PREFIXES) if (bare.startsWith(prefix)) return price;
  return undefined;
}
