/**
 * The "llm-policy" config object: a routing policy whose name is a model alias. A request for
 * `"model": "fast"` runs the policy "fast": its strategy orders the targets, each target is tried
 * (with retries) until one answers, and failures the policy names fall back to the next.
 *
 * ```yaml
 * llmPolicies:
 *   - name: fast
 *     strategy: weighted
 *     targets:
 *       - { provider: groq, model: llama-3.1-8b-instant, weight: 3 }
 *       - { provider: openai, model: gpt-4o-mini }
 * ```
 */

import { z } from 'zod';
import { DurationSchema, NameSchema } from '../../model/common.js';
import { ModelIdSchema } from './llm-provider-spec.js';

export const STRATEGIES = ['fallback', 'weighted', 'least-latency', 'least-busy'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** Failure classes that may trigger a fallback besides HTTP statuses. */
export const FALLBACK_EVENTS = ['timeout', 'connection'] as const;

const DEFAULT_FALLBACK_ON = [408, 409, 429, 500, 502, 503, 504, 529, 'timeout', 'connection'] as const;

export const PolicyTargetSchema = z
  .object({
    provider: NameSchema.describe('Name of an llm-provider in the same tenant'),
    model: ModelIdSchema.describe("A model of that provider (its catalogue name, or any id when it has no catalogue)"),
    weight: z.number().int().min(1).max(1000).default(100).describe('Share of traffic with `strategy: weighted`'),
  })
  .strict();

export const LlmPolicySpecSchema = z
  .object({
    name: NameSchema.describe('The alias clients send as "model"'),
    strategy: z
      .enum(STRATEGIES)
      .default('fallback')
      .describe('Order of targets: `fallback` as listed; `weighted` a random first pick by weight; `least-latency` fastest recent first; `least-busy` fewest requests in flight first. The others follow as fallbacks.'),
    targets: z.array(PolicyTargetSchema).min(1).max(32),
    fallbackOn: z
      .array(z.union([z.number().int().min(400).max(599), z.enum(FALLBACK_EVENTS)]))
      .default([...DEFAULT_FALLBACK_ON])
      .describe('Failures that move on to the next target (and are retried): HTTP statuses, "timeout", "connection". Others are returned to the client at once.'),
    retries: z
      .object({
        attempts: z.number().int().min(0).max(10).default(1).describe('Retries per target after its first attempt'),
        baseDelay: DurationSchema.default(250).describe('First backoff; doubled each retry, with full jitter'),
        maxDelay: DurationSchema.default(8000).describe('Longest backoff, and the longest Retry-After honoured'),
      })
      .strict()
      .default({ attempts: 1, baseDelay: 250, maxDelay: 8000 }),
    timeouts: z
      .object({
        attempt: DurationSchema.default(60_000).describe('Longest single attempt until the first response byte (streams) or the whole answer'),
        total: DurationSchema.default(180_000).describe('Longest time for all attempts together'),
      })
      .strict()
      .default({ attempt: 60_000, total: 180_000 }),
    circuitBreaker: z
      .object({
        failures: z.number().int().min(1).max(1000).default(5).describe('Consecutive failures that open the circuit of a target'),
        cooldown: DurationSchema.default(30_000).describe('How long an open circuit refuses before one probe request is let through (half-open)'),
      })
      .strict()
      .default({ failures: 5, cooldown: 30_000 }),
  })
  .strict();

export type LlmPolicySpec = z.output<typeof LlmPolicySpecSchema>;
export type PolicyTarget = z.output<typeof PolicyTargetSchema>;

/** The policy a `provider/model` request runs when it names no alias: that one target, with defaults. */
export function directPolicy(provider: string, model: string): LlmPolicySpec {
  return LlmPolicySpecSchema.parse({ name: 'direct', targets: [{ provider, model }] });
}
