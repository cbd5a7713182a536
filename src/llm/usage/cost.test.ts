/**
 * Cost in nano-dollars (exact integers) and the built-in price table: exact ids, dated snapshots,
 * Bedrock and OpenRouter ids, and the catalogue price taking precedence.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelPricing } from '../model/llm-provider-spec.js';
import type { TokenCounts } from '../wire/chat.js';
import { costNanoUsd, effectivePrice } from './cost.js';
import { DEFAULT_PRICES, defaultPrice } from './default-prices.js';

const tokens = (t: Partial<TokenCounts>): TokenCounts => ({ input: 0, output: 0, cachedInput: 0, reasoning: 0, ...t });
const GPT_4O: ModelPricing = { input: 2.5, output: 10, cachedInput: 1.25 };
const priceOf = (id: string): ModelPricing => DEFAULT_PRICES.find(([k]) => k === id)![1];

describe('costNanoUsd', () => {
  it('prices input and output per million tokens, in nano-dollars', () => {
    assert.equal(costNanoUsd(tokens({ input: 1_000_000 }), GPT_4O), 2_500_000_000);
    assert.equal(costNanoUsd(tokens({ output: 1_000_000 }), GPT_4O), 10_000_000_000);
    assert.equal(costNanoUsd(tokens({ input: 1, output: 1 }), GPT_4O), 2_500 + 10_000);
  });

  it('returns exact integers for prices that are not exact in binary', () => {
    const mini = { input: 0.15, output: 0.6 };
    assert.equal(costNanoUsd(tokens({ input: 1234, output: 567 }), mini), 185_100 + 340_200);
    assert.equal(costNanoUsd(tokens({ input: 3 }), { input: 0.1, output: 0 }), 300);
    const c = costNanoUsd(tokens({ input: 7_777_777, output: 333_333 }), { input: 0.27, output: 1.1 });
    assert.ok(Number.isInteger(c));
    assert.equal(c, 2_099_999_790 + 366_666_300);
  });

  it('charges cached tokens at the cached price, the rest at the input price', () => {
    assert.equal(costNanoUsd(tokens({ input: 1_000_000, cachedInput: 400_000 }), GPT_4O), 600_000 * 2_500 + 400_000 * 1_250);
  });

  it('charges cached tokens at the input price when the model has no cached price', () => {
    assert.equal(costNanoUsd(tokens({ input: 1000, cachedInput: 1000 }), { input: 2, output: 8 }), 2_000_000);
  });

  it('caps cached tokens at the input count', () => {
    assert.equal(costNanoUsd(tokens({ input: 100, cachedInput: 500 }), GPT_4O), 100 * 1_250);
  });

  it('counts reasoning tokens once, as part of the output', () => {
    const withReasoning = costNanoUsd(tokens({ input: 10, output: 1000, reasoning: 800 }), GPT_4O);
    assert.equal(withReasoning, costNanoUsd(tokens({ input: 10, output: 1000 }), GPT_4O));
    assert.equal(withReasoning, 10 * 2_500 + 1000 * 10_000);
  });

  it('is zero without pricing, and zero for no tokens', () => {
    assert.equal(costNanoUsd(tokens({ input: 1_000_000, output: 1_000_000 }), undefined), 0);
    assert.equal(costNanoUsd(tokens({}), GPT_4O), 0);
  });
});

describe('defaultPrice', () => {
  /** Asserts that each model id gets the built-in price of the family it is paired with. */
  const assertFamilies = (pairs: Record<string, string>): void => {
    for (const [id, family] of Object.entries(pairs)) assert.equal(defaultPrice(id), priceOf(family), id);
  };

  it('finds exact ids', () => {
    assertFamilies(Object.fromEntries(['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'o3', 'claude-opus-4', 'gemini-2.5-flash', 'deepseek-chat'].map((id) => [id, id])));
  });

  it('finds the family of a dated snapshot by the longest prefix', () => {
    assertFamilies({
      'gpt-4o-mini-2024-07-18': 'gpt-4o-mini',
      'gpt-4o-2024-08-06': 'gpt-4o',
      'gpt-4.1-mini-2025-04-14': 'gpt-4.1-mini',
      'o3-mini-2025-01-31': 'o3-mini',
      'claude-3-5-sonnet-20241022': 'claude-3-5-sonnet',
      'claude-sonnet-4-20250514': 'claude-sonnet-4',
    });
  });

  it('finds Bedrock model ids, with and without a region prefix', () => {
    assertFamilies({
      'anthropic.claude-3-5-haiku-20241022-v1:0': 'claude-3-5-haiku',
      'us.anthropic.claude-3-5-sonnet-20240620-v1:0': 'claude-3-5-sonnet',
      'eu.anthropic.claude-3-haiku-20240307-v1:0': 'claude-3-haiku',
    });
  });

  it('finds OpenRouter ids after the vendor path', () => {
    assertFamilies({ 'openai/gpt-4o': 'gpt-4o', 'openai/gpt-4o-mini': 'gpt-4o-mini', 'anthropic/claude-3-7-sonnet-20250219': 'claude-3-7-sonnet' });
  });

  it('returns undefined for unknown models', () => {
    for (const id of ['llama-3.1-8b-instant', 'my-model', 'gpt-4-turbo', 'meta/llama3', '']) assert.equal(defaultPrice(id), undefined, id);
  });
});

describe('effectivePrice', () => {
  it('prefers the catalogue price over the built-in one', () => {
    const negotiated = { input: 1, output: 2 };
    assert.equal(effectivePrice(negotiated, 'gpt-4o'), negotiated);
    assert.equal(effectivePrice(negotiated, 'unknown-model'), negotiated);
  });

  it('falls back to the built-in price of the upstream model, else undefined', () => {
    assert.equal(effectivePrice(undefined, 'gpt-4o-mini-2024-07-18'), priceOf('gpt-4o-mini'));
    assert.equal(effectivePrice(undefined, 'unknown-model'), undefined);
  });
});
