import type { ModelPricing } from '../model/llm-provider-spec.js';
import type { TokenCounts } from '../wire/chat.js';
import { defaultPrice } from './default-prices.js';

/**
 * Cost of a request in nano-US-dollars: (input − cached) × input price + cached × cached price +
 * output × output price, prices per 1M tokens. Reasoning tokens are part of the output count.
 */
export function costNanoUsd(tokens: TokenCounts, pricing: ModelPricing | undefined): number {
  if (!pricing) return 0;
  const cached = Math.min(tokens.cachedInput, tokens.input);
  const uncached = tokens.input - cached;
  // USD per 1M tokens × tokens = micro-USD; × 1000 = nano-USD.
  return Math.round((uncached * pricing.input + cached * (pricing.cachedInput ?? pricing.input) + tokens.output * pricing.output) * 1000);
}

/** The price that applies to a deployment: its catalogue price, else the built-in one for its upstream model. */
export function effectivePrice(catalogue: ModelPricing | undefined, upstreamModel: string): ModelPricing | undefined {
  return catalogue ?? defaultPrice(upstreamModel);
}
